/**
 * What a job checkout costs: our workspace manager (`prepare`, warm base, until the tree is ready)
 * against a plain `git clone --local <base> <dir>` of the same base, on a repository of 10,000
 * small files, interleaved so drift on the machine hits both alike. Then the disk a checkout
 * takes when its objects are hardlinked to the base, against a full copy.
 *
 *   pnpm --filter ./bench bench:workspace
 *   BENCH_RUNS=30 BENCH_FILES=50000 npx tsx bench/workspace.ts
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createTempRepo, tempDir } from "@claude-gateway/testkit";
import { execa } from "execa";
// The executor is a service, not a library: the bench reaches into its source (run with tsx).
import { createWorkspaceManager } from "../services/executor/src/workspace/index.js";
import { positiveIntEnv } from "./lib/env.js";
import { summarize } from "./lib/stats.js";
import { formatTable } from "./lib/table.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 10);
const FILES = positiveIntEnv("BENCH_FILES", 10_000);
const COMMITS = 5;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function duKiB(...paths: string[]): Promise<number> {
  // du counts a hardlinked file once per invocation: listing the base first charges it the objects.
  const { stdout } = await execa("du", ["-skc", ...paths]);
  return Number(/(\d+)\s+total\s*$/.exec(stdout)?.[1] ?? Number.NaN);
}

async function main(): Promise<void> {
  const { stdout: gitVersion } = await execa("git", ["--version"]);
  console.log(`${gitVersion}, node ${process.version}, ${availableParallelism()} cpus; ${RUNS} runs each`);

  const upstream = await createTempRepo();
  const scratch = await tempDir("cg-bench-ws-");
  try {
    const perCommit = Math.ceil(FILES / COMMITS);
    for (let c = 0; c < COMMITS; c++) {
      const files: Record<string, string> = {};
      for (let i = c * perCommit; i < Math.min(FILES, (c + 1) * perCommit); i++) {
        files[`src/d${String(i % 100).padStart(2, "0")}/file-${i}.txt`] =
          `file ${i}\n${"x".repeat(i % 200)}\n`;
      }
      await upstream.commit(files, `batch ${c + 1}`);
    }
    console.log(`upstream: ${FILES} files in ${COMMITS} commits`);

    const root = join(scratch.dir, "root");
    const manager = createWorkspaceManager({ root, refreshIntervalMs: 60 * 60_000 });
    // Warm-up: clones the base (not timed), and one of each run so caches are hot for both.
    const cloneBase = await time(async () =>
      (await manager.prepare({ jobId: "warmup", repo: upstream.dir })).release(),
    );
    console.log(`first prepare (clones the base): ${cloneBase.toFixed(0)} ms`);
    const [baseName] = (await execa("ls", [join(root, "bases")])).stdout.split("\n");
    const baseDir = join(root, "bases", baseName!);
    const plainDir = (i: number) => join(scratch.dir, `plain-${i}`);
    await execa("git", ["clone", "--local", "--quiet", "--", baseDir, plainDir(-1)]);

    const ours: number[] = [];
    const plain: number[] = [];
    const objectsOnly: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let release = async () => {};
      ours.push(
        await time(async () => {
          ({ release } = await manager.prepare({ jobId: `run-${i}`, repo: upstream.dir }));
        }),
      );
      plain.push(await time(() => execa("git", ["clone", "--local", "--quiet", "--", baseDir, plainDir(i)])));
      await release();
      await execa("rm", ["-rf", plainDir(i)]);
      // The share of the work that is not writing the tree: linking the objects, refs, config.
      objectsOnly.push(
        await time(() =>
          execa("git", ["clone", "--local", "--no-checkout", "--quiet", "--", baseDir, plainDir(i)]),
        ),
      );
      await execa("rm", ["-rf", plainDir(i)]);
    }

    const rows = [
      ["workspace manager prepare()", summarize(ours)],
      ["git clone --local <base> <dir>", summarize(plain)],
      ["  same, --no-checkout (no tree)", summarize(objectsOnly)],
    ] as const;
    console.log();
    console.log(
      formatTable(
        ["job checkout", "median ms", "p95 ms", "min ms", "max ms"],
        rows.map(([name, s]) => [name, s.median, s.p95, s.min, s.max]),
      ),
    );
    console.log("isomorphic-git: skipped, it cannot clone from a local path without an HTTP transport");

    const job = await manager.prepare({ jobId: "disk", repo: upstream.dir });
    const fullCopy = join(scratch.dir, "full-copy");
    await execa("git", ["clone", "--no-hardlinks", "--quiet", "--", baseDir, fullCopy]);
    const base = await duKiB(baseDir);
    const jobAlone = await duKiB(job.dir);
    const jobBeyondBase = (await duKiB(baseDir, job.dir)) - base;
    const full = await duKiB(fullCopy);
    const fullGit = await duKiB(join(fullCopy, ".git"));
    const jobGitBeyondBase = (await duKiB(baseDir, join(job.dir, ".git"))) - base;
    console.log();
    console.log(
      formatTable(
        ["disk (du -sk)", "total KiB", ".git KiB"],
        [
          ["base (bare clone)", base, base],
          ["job checkout, counted alone", jobAlone, await duKiB(join(job.dir, ".git"))],
          ["job checkout, beyond the base", jobBeyondBase, jobGitBeyondBase],
          ["full copy (clone --no-hardlinks)", full, fullGit],
        ],
        { decimals: 0 },
      ),
    );
    await job.release();
  } finally {
    await upstream.cleanup();
    await scratch.cleanup();
  }
}

await main();
