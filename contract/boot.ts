// How long a new service host may take from launch to ready, defined once: the Fleet's defaults and the
// stack config's floors derive from it, so a slower boot raises both together.

/**
 * Boot-to-ready lower bound, seconds: `npm run test:vm` (vm/boot.test.ts) measures from cloud-init's start to
 * the first `/readyz` 200 with every install step running against local stand-ins. Under qemu's software
 * emulation, so real EC2 is expected to be faster; it is a floor for planning, not an estimate.
 * Measured 2026-11-30: 189 s (qemu TCG, 2 shared cores under load; SSM agent 35-38 s, runtime 17-20 s, Datadog
 * agent 19-42 s, release 1 26 s). Update it when a run of the VM test prints a higher figure.
 */
export const measuredBootSec = 189;

/** Never below AWS's console default, whatever the measurement. */
export const minGracePeriodSec = 300;

/**
 * Added to the grace period for the launch lifecycle hook: the VM figure starts at cloud-init, while the hook's
 * clock starts when the instance enters Pending:Wait, before firmware, kernel and systemd reach cloud-init
 * (about a minute on EC2 Nitro; two to be safe). Too short, the hook abandons a host that was about to be
 * ready and a whole boot is lost; too long only delays replacing a broken one by that much.
 */
export const lifecycleHookMarginSec = 120;

const roundUpToMinute = (sec: number) => Math.ceil(sec / 60) * 60;

/** What the boot budget gives a fleet: both values in whole minutes, seconds. */
export interface BootBudget {
  /** The boot-to-ready figure they derive from. */
  measuredBootSec: number;
  /** ASG health-check grace period: max(300, 2 × measured), rounded up to a whole minute. */
  healthCheckGracePeriodSec: number;
  /** Launch lifecycle hook heartbeat timeout: the grace period plus lifecycleHookMarginSec. */
  lifecycleHookTimeoutSec: number;
}

/** The budget for a boot-to-ready figure (default the measured one). */
export function bootBudget(bootSec: number = measuredBootSec): BootBudget {
  if (!Number.isFinite(bootSec) || bootSec <= 0) throw new Error(`bootSec: ${bootSec} must be a positive number`);
  const healthCheckGracePeriodSec = roundUpToMinute(Math.max(minGracePeriodSec, 2 * bootSec));
  return {
    measuredBootSec: bootSec,
    healthCheckGracePeriodSec,
    lifecycleHookTimeoutSec: healthCheckGracePeriodSec + lifecycleHookMarginSec,
  };
}

/** The budget of the measured boot. */
export const defaultBootBudget: BootBudget = bootBudget();
