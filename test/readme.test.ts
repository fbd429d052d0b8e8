// README.md stays true to the program: its alarm table names exactly the CloudWatch alarms and Datadog monitors the
// stack declares (dev and prod, both flavors, run under the Pulumi mocks), and its architecture diagram is a
// well-formed mermaid flowchart (checked here by structure: no network, no mermaid CLI).
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Flavor, stackGraph, stackVariants } from "./support/stackGraph";

const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const MONITOR = "datadog:index/monitor:Monitor";
const OBSERVABILITY = "node-service-aws:index:Observability";
const kindOf: Record<string, string> = { [ALARM]: "CloudWatch alarm", [MONITOR]: "Datadog monitor" };
const flavorText: Record<Flavor, string> = { alb: "ALB flavor", haproxy: "HAProxy flavor" };

// ---------------------------------------------------------------------------------------------------------------
// The alarm table

interface AlarmRow {
  /** `<kind> <name>`, the name with `<service>` as the README writes it. */
  key: string;
  title?: string;
  flavors: Flavor[];
  condition: string;
}

/** The rows of the "What each alarm means, and what to do" table. */
export function alarmTable(text: string): AlarmRow[] {
  const heading = "## What each alarm means, and what to do";
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const end = text.indexOf("\n## ", start + heading.length);
  const section = text.slice(start, end < 0 ? undefined : end);
  const rows: AlarmRow[] = [];
  for (const line of section.split("\n").filter((l) => l.startsWith("| `"))) {
    const cells = line
      .replace(/^\|\s*|\s*\|$/g, "")
      .split(/\s+\|\s+/)
      .map((c) => c.trim());
    if (cells.length !== 5) throw new Error(`alarm table row with ${cells.length} cells, not 5: ${line}`);
    const name = /^`([^`]+)`(?: "([^"]+)")?$/.exec(cells[0]!);
    const kind = /^(CloudWatch alarm|Datadog monitor), (ALB flavor|HAProxy flavor|both flavors)\b/.exec(cells[1]!);
    if (!name || !kind) throw new Error(`alarm table row not in the form "\`name\` "title" | kind, flavor": ${line}`);
    for (const [i, what] of [
      [2, "condition"],
      [3, "meaning"],
      [4, "first action"],
    ] as const)
      if (!/\w{3}/.test(cells[i]!)) throw new Error(`alarm table row without its ${what}: ${line}`);
    rows.push({
      key: `${kind[1]} ${name[1]}`,
      title: name[2],
      flavors: kind[2] === "both flavors" ? ["alb", "haproxy"] : kind[2] === "ALB flavor" ? ["alb"] : ["haproxy"],
      condition: cells[2]!,
    });
  }
  return rows;
}

/** What the program declares: `<kind> <name>` -> the flavors declaring it and, for a monitor, its title. */
type Declared = Map<string, { flavors: Set<Flavor>; titles: Set<string>; thresholds: Set<number> }>;

describe("README.md's alarm table is the program's alarms and monitors", () => {
  const declared: Declared = new Map();
  beforeAll(async () => {
    for (const [stack, flavor] of stackVariants) {
      const graph = await stackGraph(stack, flavor);
      const service = graph.filter((r) => r.type === OBSERVABILITY).map((r) => r.name);
      expect(service, `${stack}/${flavor}: one Observability component`).toHaveLength(1);
      for (const r of graph.filter((x) => x.type in kindOf)) {
        const key = `${kindOf[r.type]} ${r.name.replace(service[0]!, "<service>")}`;
        const d = declared.get(key) ?? { flavors: new Set(), titles: new Set(), thresholds: new Set() };
        d.flavors.add(flavor);
        if (r.type === MONITOR) d.titles.add(String(r.inputs.name).replace(/^\[[^\]]+\]\[[^\]]+\] /, ""));
        if (r.type === ALARM && typeof r.inputs.threshold === "number") d.thresholds.add(r.inputs.threshold);
        declared.set(key, d);
      }
    }
  }, 300_000);

  it("the program declares alarms and monitors in both flavors (the graphs are not empty)", () => {
    const flavors = [...declared.values()].flatMap((d) => [...d.flavors]);
    expect(new Set(flavors)).toEqual(new Set(["alb", "haproxy"]));
    expect([...declared.keys()].some((k) => k.startsWith("CloudWatch alarm"))).toBe(true);
    expect([...declared.keys()].some((k) => k.startsWith("Datadog monitor"))).toBe(true);
  });

  it("every declared alarm and monitor has a row, and every row names one that exists", () => {
    const rows = alarmTable(readme).map((r) => r.key);
    expect(new Set(rows).size, "a row appears twice").toBe(rows.length);
    expect([...rows].sort()).toEqual([...declared.keys()].sort());
  });

  it("each row says the flavors that declare it and, for a monitor, the title Datadog shows", () => {
    for (const row of alarmTable(readme)) {
      const d = declared.get(row.key)!;
      expect(
        row.flavors.map((f) => flavorText[f]),
        row.key,
      ).toEqual([...d.flavors].sort().map((f) => flavorText[f]));
      if (row.key.startsWith("Datadog monitor")) expect([row.title], row.key).toEqual([...d.titles]);
      else expect(row.title, `${row.key}: a CloudWatch alarm has no Datadog title`).toBeUndefined();
    }
  });

  it("a CloudWatch alarm with a fixed threshold states it in its condition", () => {
    for (const row of alarmTable(readme).filter((r) => r.key.startsWith("CloudWatch alarm"))) {
      const fixed = [...declared.get(row.key)!.thresholds].filter((t) => t !== 0);
      // thresholds that follow the fleet's size (healthy hosts and nodes) differ between stacks: stated by name
      if (fixed.length !== 1) continue;
      expect(row.condition, row.key).toMatch(new RegExp(`\\b${String(fixed[0]).replace(".", "\\.")} (%|s)(?!\\w)`));
    }
  });

  it("refuses a table that is not in its form", () => {
    const head = "## What each alarm means, and what to do\n\n| a | b | c | d | e |\n|---|---|---|---|---|\n";
    expect(() => alarmTable(`${head}| \`x\` | CloudWatch alarm | c | m | a |\n`)).toThrow(/kind, flavor/);
    expect(() => alarmTable(`${head}| \`x\` | Datadog monitor, both flavors | c | m |\n`)).toThrow(/4 cells/);
    expect(() => alarmTable("# nothing here\n")).toThrow(/no section/);
    expect(alarmTable(`${head}| \`<service>-x\` "X" | Datadog monitor, ALB flavor | cond | means | act |\n`)).toEqual([
      { key: "Datadog monitor <service>-x", title: "X", flavors: ["alb"], condition: "cond" },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The architecture diagram

const openers: Record<string, string> = { "([": "])", "[(": ")]", "((": "))", "[": "]", "(": ")", "{": "}" };
const nodeDecl = /^([A-Za-z_]\w*)(\(\[|\[\(|\(\(|\[|\(|\{)(.*)$/;
const arrow = /\s*(?:-->|-\.->|==>|---)(?:\|([^|]*)\|)?\s*/;

/** Problems with one mermaid flowchart's text; empty when it is well formed. */
export function flowchartProblems(text: string): { problems: string[]; nodes: Map<string, string> } {
  const lines = text.split("\n").map((l) => l.trim());
  const problems: string[] = [];
  const nodes = new Map<string, string>(); // id -> label
  const subgraphs: string[] = [];
  const open: string[] = [];
  const used = new Set<string>();
  const first = lines.findIndex((l) => l !== "" && !l.startsWith("%%"));
  if (first < 0 || !/^flowchart (TB|TD|BT|RL|LR)$/.test(lines[first]!))
    problems.push(`the first line is not a flowchart header ("flowchart TB", LR, ...): "${lines[first] ?? ""}"`);

  const declare = (id: string, label: string, where: string) => {
    if (id === "end" || id === "subgraph") problems.push(`${where}: "${id}" is a keyword, not a node id`);
    if (nodes.has(id) || subgraphs.includes(id)) problems.push(`${where}: "${id}" is declared twice`);
    nodes.set(id, label);
  };
  /** A node as written on its own or at an edge's end: `id` or `id<open>label<close>`; the id, or undefined. */
  const node = (s: string, where: string): string | undefined => {
    if (/^[A-Za-z_]\w*$/.test(s)) return s;
    const m = nodeDecl.exec(s);
    if (!m) {
      problems.push(`${where}: "${s}" is not a node`);
      return undefined;
    }
    const [, id, opener, rest] = m as unknown as [string, string, string, string];
    const closer = openers[opener]!;
    if (!rest.endsWith(closer)) {
      problems.push(`${where}: "${s}" does not end with "${closer}"`);
      return undefined;
    }
    const label = rest.slice(0, rest.length - closer.length);
    const quoted = /^"[^"]*"$/.test(label);
    if (!quoted && /[[\](){}|"<>]/.test(label))
      problems.push(`${where}: the label of "${id}" holds a bracket, quote or pipe: quote it`);
    if (label.replace(/"/g, "").trim() === "") problems.push(`${where}: "${id}" has an empty label`);
    declare(id, label.replace(/^"|"$/g, ""), where);
    return id;
  };

  lines.slice(first + 1).forEach((line, i) => {
    const where = `diagram line ${first + i + 2}`;
    if (line === "" || line.startsWith("%%")) return;
    const sub = /^subgraph\s+([A-Za-z_]\w*)(?:\s*\[([^\]"]+)\])?$/.exec(line);
    if (sub) {
      if (nodes.has(sub[1]!) || subgraphs.includes(sub[1]!)) problems.push(`${where}: "${sub[1]}" is declared twice`);
      subgraphs.push(sub[1]!);
      open.push(sub[1]!);
      return;
    }
    if (line.startsWith("subgraph")) return void problems.push(`${where}: a subgraph needs an id: "${line}"`);
    if (line === "end") {
      if (open.pop() === undefined) problems.push(`${where}: "end" without a subgraph`);
      return;
    }
    if (arrow.test(line)) {
      const parts = line.split(arrow);
      // split() interleaves the captured edge labels: node, label, node, label, node ...
      for (let k = 0; k < parts.length; k += 2) {
        const id = node(parts[k]!.trim(), where);
        if (id !== undefined) used.add(id);
        const label = parts[k + 1];
        if (label !== undefined && /[[\](){}"<>]/.test(label))
          problems.push(`${where}: edge label "${label}" holds a bracket or quote`);
      }
      if (parts.length < 3) problems.push(`${where}: an edge needs two ends: "${line}"`);
      return;
    }
    node(line, where);
  });
  for (const id of open) problems.push(`subgraph "${id}" has no "end"`);
  for (const id of used)
    if (!nodes.has(id) && !subgraphs.includes(id)) problems.push(`edge end "${id}" is not declared`);
  for (const id of nodes.keys()) if (!used.has(id)) problems.push(`node "${id}" is in no edge`);
  return { problems, nodes };
}

/** Bodies of the ```mermaid blocks of a Markdown text. */
const mermaidBlocks = (text: string) => [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

describe("README.md's architecture diagram", () => {
  it("opens the README, before the first commands", () => {
    expect(mermaidBlocks(readme)).toHaveLength(1);
    expect(readme.indexOf("```mermaid")).toBeGreaterThan(0);
    expect(readme.indexOf("```mermaid")).toBeLessThan(readme.indexOf("```sh\nnpm ci && npm run demo"));
  });

  it("is a flowchart whose every edge joins declared nodes, with no node left out", () => {
    expect(flowchartProblems(mermaidBlocks(readme)[0]!).problems).toEqual([]);
  });

  it("shows both flavors and what every host runs", () => {
    const labels = [...flowchartProblems(mermaidBlocks(readme)[0]!).nodes.values()].join("\n");
    for (const part of [
      "Route 53",
      "ALB",
      "Auto Scaling group",
      "systemd",
      "journald",
      "rsyslog",
      "Papertrail",
      "Datadog agent",
      "SSM SecureString",
      "KMS",
      "S3 release bucket",
      "NLB",
      "HAProxy node",
      "Private Route 53 zone",
      "SSM association",
    ])
      expect(labels, part).toContain(part);
  });

  it("finds what would break a diagram", () => {
    const problems = (t: string) => flowchartProblems(t).problems;
    expect(problems("flowchart LR\n  a[A]\n  b[B]\n  a --> b\n")).toEqual([]);
    expect(problems("graph LR\n  a[A]\n  a --> a\n")[0]).toMatch(/flowchart header/);
    expect(problems("flowchart LR\n  a[A]\n  a --> b\n")).toEqual(['edge end "b" is not declared']);
    expect(problems("flowchart LR\n  a[A]\n  b[B]\n  c[C]\n  a -->|x| b\n")).toEqual(['node "c" is in no edge']);
    expect(problems("flowchart LR\n  subgraph s [S]\n  a[A]\n  a --> s\n")).toEqual(['subgraph "s" has no "end"']);
    expect(problems("flowchart LR\n  a[A (x)]\n  b[B]\n  a --> b\n")[0]).toMatch(/quote it/);
    expect(problems('flowchart LR\n  a["A (x)"]\n  b[(B)]\n  a -.-> b\n')).toEqual([]);
    expect(problems("flowchart LR\n  a[A\n  b[B]\n  a --> b\n")[0]).toMatch(/does not end with/);
    expect(problems("flowchart LR\n  a[A]\n  a[B]\n  a --> a\n")[0]).toMatch(/declared twice/);
  });
});
