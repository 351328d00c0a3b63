// The pure part of `pnpm images`: arguments, names, the report. No I/O.

/** Command-line options: `--base <image>`, `--tag <tag>`, then services (default: all). */
export function parseArgs(argv, env, known) {
  const opts = { base: env.IMAGES_BASE || undefined, tag: env.IMAGES_TAG || "dev", services: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--base" || a === "--tag") {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value`);
      opts[a.slice(2)] = v;
    } else if (a.startsWith("-")) {
      throw new Error(`unknown option ${a}`);
    } else if (!known.includes(a)) {
      throw new Error(`${a} is no service of deploy/images.json (${known.join(", ")})`);
    } else {
      opts.services.push(a);
    }
  }
  if (opts.services.length === 0) opts.services = [...known];
  return opts;
}

/** The image a service's build is tagged as; the manifests name it without registry or tag. */
export function imageName(service, tag) {
  return `localhost/claude-gateway/${service}:${tag}`;
}

/** `--build-arg` values for one service's entry in deploy/images.json. */
export function buildArgs(entry, service, base) {
  const args = [`SERVICE=${service}`];
  if (entry.port !== undefined) args.push(`PORT=${entry.port}`);
  if (entry.runtimePackages.length) args.push(`RUNTIME_PACKAGES=${entry.runtimePackages.join(" ")}`);
  if (entry.runnerUsers !== undefined) args.push(`RUNNER_USERS=${entry.runnerUsers}`);
  if (base) args.push(`NODE_IMAGE=${base}`);
  return args;
}

const MB = 1_000_000;

export function overBudget(row) {
  return row.budgetMB !== undefined && row.bytes > row.budgetMB * MB;
}

/** One table: build time and compressed size against the budget, per image. */
export function formatReport(rows) {
  const head = ["image", "build s", "compressed MB", "budget MB", ""];
  const body = rows.map((r) => [
    r.image,
    r.seconds.toFixed(0),
    (r.bytes / MB).toFixed(1),
    r.budgetMB === undefined ? "-" : String(r.budgetMB),
    overBudget(r) ? "OVER" : "ok",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(head), ...body.map(line)].join("\n");
}
