// The one retry every download on a host goes through (the boot script, the secrets script, the deploy script):
// bounded tries, doubling waits, a bounded total per download. Each script defines `log` before it.

/** Bounded tries, doubling waits, a bounded total per download. */
export const retryPolicy = { attempts: 5, firstWaitSec: 2, budgetSec: 600 } as const;

/**
 * Shell function `retry command...`: runs the command until it succeeds, at most retryPolicy.attempts times,
 * waiting firstWaitSec then twice as long each time, all within budgetSec; one `log` line per failed try.
 * `prefix` starts each line (shell text, e.g. `step=$current_step `).
 */
export function renderRetry(prefix: string): string {
  return `retry_attempts=${retryPolicy.attempts}
retry_budget=${retryPolicy.budgetSec}
retry() { # command...: at most retry_attempts tries, waits doubling from ${retryPolicy.firstWaitSec}s, all within retry_budget seconds
  local attempt=1 wait=${retryPolicy.firstWaitSec} deadline=$((SECONDS + retry_budget))
  until timeout "$((deadline - SECONDS))" "$@"; do
    if [ "$attempt" -ge "$retry_attempts" ] || [ $((SECONDS + wait)) -ge "$deadline" ]; then
      log "${prefix}gave up after $attempt attempts: $1"
      return 1
    fi
    log "${prefix}attempt $attempt failed, again in \${wait}s: $1"
    sleep "$wait"
    attempt=$((attempt + 1))
    wait=$((wait * 2))
  done
}
`;
}
