// URNs and aliases the way the Pulumi engine computes them (pkg/resource/deploy: generateURN leaves the
// root stack's type out of the chain; step_generator.go collapseAliasToUrn and generateAliases): an alias
// spec's unset fields default to the resource's own, and a child also answers to its URN under each of
// its parent's aliases, with the parent's name prefix of its own name replaced by the alias's.
// Used by the stand-in engine and by the URN recorder under the mocks, so both judge URNs alike.

const qualifiedType = (urn: string) => urn.split("::")[2]!;
const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const typeOf = (urn: string) => qualifiedType(urn).split("$").pop()!;

export function makeUrn(stack: string, project: string, type: string, name: string, parentUrn: string): string {
  const parentChain = parentUrn ? qualifiedType(parentUrn) : "";
  const chain = parentChain && !parentChain.startsWith("pulumi:pulumi:Stack") ? `${parentChain}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

/** Every URN a registration answers to besides its own. `req` is a RegisterResourceRequest. */
export function aliasesOf(
  req: any,
  parentUrn: string,
  parentAliases: string[],
  stack: string,
  project: string,
): string[] {
  const type: string = req.getType();
  const name: string = req.getName();
  const own: string[] = req.getAliasesList().map((a: any) => {
    if (!a.hasSpec()) return a.getUrn();
    const spec = a.getSpec();
    const aliasParent = spec.getNoparent() ? "" : spec.getParenturn() || parentUrn;
    return makeUrn(
      spec.getStack() || stack,
      spec.getProject() || project,
      spec.getType() || type,
      spec.getName() || name,
      aliasParent,
    );
  });
  const inherited = parentAliases.flatMap((parentAlias) =>
    [{ t: type, n: name }, ...own.map((u) => ({ t: typeOf(u), n: nameOf(u) }))].map(({ t, n }) => {
      const parentName = nameOf(parentUrn);
      const aliasName = n.startsWith(parentName) ? nameOf(parentAlias) + n.slice(parentName.length) : n;
      return makeUrn(stack, project, t, aliasName, parentAlias);
    }),
  );
  return [...new Set([...own, ...inherited])];
}
