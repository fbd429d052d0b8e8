// The GitHub workflows (.github/workflows/): each passes @action-validator/cli (the workflow schema), each
// `run:` script passes shellcheck as the bash GitHub runs it, and the security properties hold, read from
// the parsed YAML: no pull_request_target, no default token permissions, every job's permissions listed and
// write access only where a step needs it, every action pinned by a full commit SHA with its version, no
// expression spliced into a script, the comment workflow never checks code out.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tool } from "../test/support/tools";

const root = path.resolve(__dirname, "..");
const dir = path.join(root, ".github/workflows");
const validator = path.join(root, "node_modules/.bin/action-validator");
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  [k: string]: unknown;
}
interface Job {
  permissions?: Record<string, string> | string;
  steps?: Step[];
  uses?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  if?: string;
  [k: string]: unknown;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}
const workflows = Object.fromEntries(
  files.map((f) => [f, parse(fs.readFileSync(path.join(dir, f), "utf8")) as Workflow]),
);
const jobsOf = (f: string) => Object.entries(workflows[f]!.jobs);
const allJobs = files.flatMap((f) => jobsOf(f).map(([id, job]) => [`${f}#${id}`, job] as const));
const allSteps = allJobs.flatMap(([id, job]) => (job.steps ?? []).map((s) => [id, s] as const));

function validate(file: string) {
  const r = spawnSync(validator, [file], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Who may hold each write permission: a job with a step that needs it. */
const writers: Record<string, (job: Job) => boolean> = {
  // OIDC: the AWS role assumption and the Pulumi token exchange.
  "id-token": (job) => (job.steps ?? []).some((s) => /^aws-actions\/configure-aws-credentials@/.test(s.uses ?? "")),
  // Comments: the Pulumi action's comment-on-pr, or the comment step of the workflow_run workflow.
  "pull-requests": (job) =>
    (job.steps ?? []).some(
      (s) =>
        (/^pulumi\/actions@/.test(s.uses ?? "") && s.with?.["comment-on-pr"] === true) ||
        /repos\/\$REPO\/issues\/\$pr\/comments/.test(s.run ?? ""),
    ),
};

describe("the workflow files", () => {
  it("are the four expected, and pass @action-validator/cli", () => {
    expect(files).toEqual(["deploy.yml", "pull-request.yml", "synth-comment.yml", "test.yml"]);
    for (const f of files) expect(validate(path.join(dir, f)), f).toEqual({ status: 0, out: "" });
  });

  it("would fail the validator on a schema error (the check can fail)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
    try {
      const bad = path.join(tmp, "bad.yml");
      const text = fs.readFileSync(path.join(dir, "synth-comment.yml"), "utf8");
      fs.writeFileSync(bad, text.replace("pull-requests: write", "pull-requests: maybe"));
      const r = validate(bad);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("/permissions/pull-requests");
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("never use pull_request_target, and give no permission by default", () => {
    for (const f of files) {
      expect(Object.keys(workflows[f]!.on), f).not.toContain("pull_request_target");
      expect(workflows[f]!.permissions, f).toEqual({});
    }
  });

  it("list each job's permissions, read-only but where a step needs to write", () => {
    for (const [id, job] of allJobs) {
      expect(typeof job.permissions, id).toBe("object");
      for (const [scope, level] of Object.entries(job.permissions as Record<string, string>)) {
        expect(["read", "write", "none"], `${id} ${scope}`).toContain(level);
        if (level === "write") expect(writers[scope]?.(job), `${id} may not hold ${scope}: write`).toBe(true);
      }
    }
    // and the ones that must write do get it
    expect(workflows["pull-request.yml"]!.jobs.preview!.permissions).toEqual({
      contents: "read",
      "id-token": "write",
      "pull-requests": "write",
    });
    for (const j of ["test", "synth"])
      expect(workflows["pull-request.yml"]!.jobs[j]!.permissions).toEqual({ contents: "read" });
  });

  it("pin every action by a full commit SHA with its version beside it", () => {
    const uses = files.flatMap((f) =>
      fs
        .readFileSync(path.join(dir, f), "utf8")
        .split("\n")
        .filter((l) => /^\s*(- )?uses:/.test(l))
        .map((l) => [f, l.trim().replace(/^- /, "")] as const),
    );
    expect(uses.length).toBeGreaterThan(10);
    for (const [f, line] of uses)
      expect(line, f).toMatch(
        /^uses: (\.\/\.github\/workflows\/[\w-]+\.yml|[\w-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+)$/,
      );
  });

  it("splice no expression into a script (values reach scripts through env)", () => {
    for (const [id, step] of allSteps) if (step.run) expect(step.run, id).not.toContain("${{");
  });

  it("check out with the token left out of the git config", () => {
    const checkouts = allSteps.filter(([, s]) => /^actions\/checkout@/.test(s.uses ?? ""));
    expect(checkouts.length).toBeGreaterThan(3);
    for (const [id, s] of checkouts) expect(s.with?.["persist-credentials"], id).toBe(false);
  });

  it("scripts pass shellcheck as the bash GitHub runs them", () => {
    const shellcheck = tool("shellcheck");
    for (const [id, step] of allSteps) {
      if (!step.run) continue;
      const r = spawnSync(shellcheck, ["-s", "bash", "-"], { input: step.run, encoding: "utf8" });
      expect(`${r.status} ${r.stdout}`, id).toBe("0 ");
    }
  });
});

describe("the pull request workflow", () => {
  const pr = workflows["pull-request.yml"]!;
  it("runs on pull_request only, with no secret, and tests through the project's CI command", () => {
    expect(Object.keys(pr.on)).toEqual(["pull_request"]);
    expect(fs.readFileSync(path.join(dir, "pull-request.yml"), "utf8")).not.toMatch(/secrets\./);
    expect(pr.jobs.test!.uses).toBe("./.github/workflows/test.yml");
    expect(workflows["test.yml"]!.jobs.test!.steps!.map((s) => s.run).filter(Boolean)).toContain("bash .ci/run");
  });

  it("synthesizes base and head, summarizes and uploads the synth-diff artifact", () => {
    const steps = pr.jobs.synth!.steps!;
    const script = steps.map((s) => s.run ?? "").join("\n");
    expect(script).toContain('npm run -s synth -- --stack "$stack" --out "$out/head/$stack"');
    expect(script).toContain('--root ../base --out "$out/base/$stack"');
    expect(script).toContain('npm run -s synth:diff -- "$out/base/$stack" "$out/head/$stack" --max-chars 30000');
    expect(steps.find((s) => /^actions\/checkout@/.test(s.uses ?? "") && s.with?.path === "base")!.with!.ref).toBe(
      "${{ github.event.pull_request.base.sha }}",
    );
    const upload = steps.find((s) => /^actions\/upload-artifact@/.test(s.uses ?? ""))!;
    expect(upload.with).toMatchObject({ name: "synth-diff", path: "synth/" });
  });

  it("previews each stack with the Pulumi action: diff, PR comment edited in place, the policy pack, AWS by OIDC", () => {
    const preview = pr.jobs.preview!;
    expect(preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect((preview.strategy as { matrix: { stack: string[] } }).matrix.stack).toEqual(["dev", "prod"]);
    const pulumi = preview.steps!.find((s) => /^pulumi\/actions@/.test(s.uses ?? ""))!;
    expect(pulumi.with).toMatchObject({
      command: "preview",
      diff: true,
      "comment-on-pr": true,
      "edit-pr-comment": true,
      policyPacks: "policy",
    });
    const aws = preview.steps!.find((s) => /^aws-actions\/configure-aws-credentials@/.test(s.uses ?? ""))!;
    expect(aws.with!["role-to-assume"]).toBe("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    expect(Object.keys(aws.with!)).not.toContain("aws-access-key-id");
  });
});

describe("the comment workflow", () => {
  const wf = workflows["synth-comment.yml"]!;
  it("runs after the pull request workflow, reads its artifact and never checks code out", () => {
    expect(wf.on).toEqual({ workflow_run: { workflows: [workflows["pull-request.yml"]!.name], types: ["completed"] } });
    const steps = wf.jobs.comment!.steps!;
    expect(steps.filter((s) => /^actions\/checkout@/.test(s.uses ?? ""))).toEqual([]);
    expect(steps.flatMap((s) => (s.uses ? [s.uses.split("@")[0]] : []))).toEqual(["actions/download-artifact"]);
    expect(steps[0]!.with).toMatchObject({ name: "synth-diff", "run-id": "${{ github.event.workflow_run.id }}" });
    const script = steps[1]!.run!;
    expect(script).toContain('[[ "$pr" =~ ^[0-9]+$ ]]');
    expect(script).toContain('if [ "$head_sha" != "$TESTED_SHA" ]');
  });
});

describe("the deploy workflow", () => {
  const wf = workflows["deploy.yml"]!;
  it("on a push to main: tests, pulumi up of dev, then prod behind the production environment", () => {
    expect(wf.on).toEqual({ push: { branches: ["main"] } });
    expect([wf.jobs.dev!.needs, wf.jobs.prod!.needs]).toEqual(["test", "dev"]);
    expect([wf.jobs.dev!.environment, wf.jobs.prod!.environment]).toEqual(["dev", "production"]);
    for (const [job, stack] of [
      ["dev", "dev"],
      ["prod", "prod"],
    ] as const) {
      const up = wf.jobs[job]!.steps!.find((s) => /^pulumi\/actions@/.test(s.uses ?? ""))!;
      expect(up.with).toMatchObject({ command: "up", "stack-name": stack, policyPacks: "policy" });
    }
    expect(wf.concurrency).toEqual({ group: "deploy", "cancel-in-progress": false });
  });
});

describe("the comment step, run by bash against a stand-in gh", () => {
  const script = workflows["synth-comment.yml"]!.jobs.comment!.steps![1]!.run!;
  const gh = `#!/bin/bash
echo "$*" >> "$GH_LOG"
case "$*" in
  *"--method"*) for a in "$@"; do case "$a" in body=@*) cp "\${a#body=@}" "$GH_BODY" ;; esac; done ;;
  *"--paginate"*) printf '%s' "$STUB_IDS" ;;
  *"/pulls/"*) echo "$STUB_HEAD_SHA" ;;
esac
`;
  function post(prNumber: string, opts: { headSha?: string; ids?: string } = {}) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "comment-"));
    try {
      fs.mkdirSync(path.join(tmp, "bin"));
      fs.mkdirSync(path.join(tmp, "artifact"));
      fs.writeFileSync(path.join(tmp, "bin/gh"), gh, { mode: 0o755 });
      fs.writeFileSync(path.join(tmp, "artifact/pr-number"), prNumber);
      fs.writeFileSync(path.join(tmp, "artifact/summary.md"), "<!-- synth-diff -->\n## Desired-state review\n");
      fs.writeFileSync(path.join(tmp, "step.sh"), script);
      // as GitHub runs a step: bash --noprofile --norc -eo pipefail {0}
      const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", path.join(tmp, "step.sh")], {
        encoding: "utf8",
        env: {
          PATH: `${path.join(tmp, "bin")}:${process.env.PATH}`,
          GH_TOKEN: "t",
          REPO: "owner/repo",
          TESTED_SHA: "a".repeat(40),
          DIR: path.join(tmp, "artifact"),
          RUNNER_TEMP: tmp,
          GH_LOG: path.join(tmp, "gh.log"),
          GH_BODY: path.join(tmp, "body.md"),
          STUB_HEAD_SHA: opts.headSha ?? "a".repeat(40),
          STUB_IDS: opts.ids ?? "",
        },
      });
      const read = (f: string) => (fs.existsSync(path.join(tmp, f)) ? fs.readFileSync(path.join(tmp, f), "utf8") : "");
      return { status: r.status, calls: read("gh.log").split("\n").filter(Boolean), body: read("body.md") };
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  it("posts a new comment, the marker first and once", () => {
    const r = post("7\n");
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.split(" -F ")[0])).toEqual([
      "api repos/owner/repo/pulls/7 --jq .head.sha",
      expect.stringMatching(/^api --paginate repos\/owner\/repo\/issues\/7\/comments --jq /),
      "api --method POST repos/owner/repo/issues/7/comments",
    ]);
    expect(r.body).toBe("<!-- synth-diff -->\n## Desired-state review\n");
  });

  it("edits the comment it posted before", () => {
    const r = post("7", { ids: "42\n43\n" });
    expect(r.calls[2]!.split(" -F ")[0]).toBe("api --method PATCH repos/owner/repo/issues/comments/42");
  });

  it("refuses a pull request number that is not one, before any call", () => {
    const r = post("7; echo pwned");
    expect([r.status, r.calls]).toEqual([1, []]);
  });

  it("does not comment when the pull request has moved on from the tested commit", () => {
    const r = post("7", { headSha: "b".repeat(40) });
    expect([r.status, r.calls.length, r.body]).toEqual([0, 1, ""]);
  });
});
