// Pulumi's wire encoding of special values (runtime/rpc.js in @pulumi/pulumi: specialSigKey and the *Sig
// constants), shared by the mocks and the stand-in engine so both read secrets, assets and references alike.
// Pure: no Pulumi import.

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/** The value of an unknown (computed in preview) property. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Wire = Record<string, unknown>;
const sigOf = (v: unknown): string | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? ((v as Wire)[SIG_KEY] as string | undefined) : undefined;

/** Paths of strings in `wire` that contain `marker` outside of a secret wrapper. */
export function clearTextPaths(wire: unknown, marker: string, path = "$"): string[] {
  if (typeof wire === "string") return wire.includes(marker) ? [path] : [];
  if (Array.isArray(wire)) return wire.flatMap((v, i) => clearTextPaths(v, marker, `${path}[${i}]`));
  if (wire && typeof wire === "object") {
    if (sigOf(wire) === SECRET_SIG) return [];
    return Object.entries(wire as Wire).flatMap(([k, v]) => clearTextPaths(v, marker, `${path}.${k}`));
  }
  return [];
}

/** True when the wire value at `key` is a Pulumi secret. */
export function isSecretOnWire(wire: unknown, key: string): boolean {
  return sigOf((wire as Wire | undefined)?.[key]) === SECRET_SIG;
}

/**
 * Maps a wire value bottom-up: `leaf` sees every special value (secret, asset, archive, resource reference,
 * output value) and may replace it; returning undefined keeps descending into it.
 */
export function mapWire(v: unknown, leaf: (sig: string, o: Wire) => unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => mapWire(x, leaf));
  if (!v || typeof v !== "object") return v;
  const sig = sigOf(v);
  if (sig) {
    const r = leaf(sig, v as Wire);
    if (r !== undefined) return r;
  }
  return Object.fromEntries(Object.entries(v as Wire).map(([k, x]) => [k, mapWire(x, leaf)]));
}

/** Plain values: secrets unwrapped, output values replaced by their value, references by their id (or URN). */
export function plain(v: unknown): unknown {
  return mapWire(v, (sig, o) => {
    if (sig === SECRET_SIG || sig === OUTPUT_VALUE_SIG) return o.value === undefined ? UNKNOWN : plain(o.value);
    if (sig === RESOURCE_SIG) return o.id ?? o.urn;
    return undefined;
  });
}
