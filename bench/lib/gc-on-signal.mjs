// Soak instrumentation, preloaded into a service only by `bench/soak.ts` (with --expose-gc): on
// SIGUSR2 the process runs full garbage collections, so memory is read with garbage gone rather
// than wherever V8's heap sizing happened to stand. Never part of a deployment.
process.on("SIGUSR2", () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
