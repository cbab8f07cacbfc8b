/** The one line format every benchmark prints and run.sh tabulates. */
export function reporter(bench: string, decimals = 2): (metric: string, value: number, unit: string) => void {
  const scale = 10 ** decimals;
  return (metric, value, unit) => {
    console.log(JSON.stringify({ bench, metric, value: Math.round(value * scale) / scale, unit }));
  };
}

/** A setting run.sh passes in the environment; missing without a fallback means run.sh was skipped. */
export function benchEnv(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set (run tests/bench/run.sh)`);
  return value;
}
