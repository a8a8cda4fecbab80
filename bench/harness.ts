/**
 * Measurement helpers for the benchmark suite. Single workloads are sampled with mitata's
 * `measure` (warm-up, then samples until both a sample count and a CPU-time budget are met).
 * Workloads that are compared with each other run in interleaved rounds instead, so a change in
 * machine load during the run shifts every variant alike and the per-round ratios stay fair.
 */

import { do_not_optimize, measure } from 'mitata'

/** A throughput figure: operations per second with its spread over samples or rounds. */
export interface Rate {
  /** Median operations per second. */
  readonly median: number
  /** First quartile (25th percentile) of operations per second. */
  readonly low: number
  /** Third quartile (75th percentile) of operations per second. */
  readonly high: number
  /** Number of timed samples or rounds behind the figure. */
  readonly samples: number
}

/** How long a run may take: `quick` is a smoke run whose numbers only show that it works. */
export interface Budget {
  readonly quick: boolean
}

/** Sample counts and time budgets of a sampling run, per mode. */
function samplingOptions(budget: Budget): {
  min_samples: number
  max_samples: number
  min_cpu_time: number
} {
  return budget.quick
    ? { min_samples: 2, max_samples: 20, min_cpu_time: 40e6 }
    : { min_samples: 12, max_samples: 400, min_cpu_time: 1_500e6 }
}

/**
 * Samples one workload with mitata. `operations` is how many operations one call performs (for
 * example the statements of a corpus), so that the rate is per operation, not per call.
 */
export async function sampleRate(
  workload: () => unknown,
  operations: number,
  budget: Budget,
): Promise<Rate> {
  const stats = await measure(workload, samplingOptions(budget))
  // mitata reports nanoseconds per call; a faster call is a higher rate, so quartiles swap.
  const rate = (nanoseconds: number): number => (operations * 1e9) / nanoseconds
  return {
    median: rate(stats.p50),
    low: rate(stats.p75),
    high: rate(stats.p25),
    samples: stats.samples.length,
  }
}

/** The outcome of interleaved rounds: one rate per variant and per-round ratios. */
export interface Interleaved<Name extends string> {
  readonly rates: Readonly<Record<Name, Rate>>
  /** Median over rounds of `rate(a) / rate(b)` measured in the same round, with quartiles. */
  ratio(a: Name, b: Name): Rate
}

/**
 * Runs every variant once per round, in a rotating order, after `warmup` untimed rounds.
 * Each call of a variant performs `operations` operations; async variants are awaited.
 */
export async function interleaveRounds<Name extends string>(
  variants: Readonly<Record<Name, () => unknown>>,
  operations: number,
  options: { readonly rounds: number; readonly warmup: number },
): Promise<Interleaved<Name>> {
  const names = Object.keys(variants) as Name[]
  const seconds = new Map<Name, number[]>(names.map((name) => [name, []]))

  for (let round = 0; round < options.warmup + options.rounds; round += 1) {
    for (let offset = 0; offset < names.length; offset += 1) {
      const name = names[(round + offset) % names.length] as Name
      const start = performance.now()
      do_not_optimize(await variants[name]())
      const elapsed = (performance.now() - start) / 1000
      if (round >= options.warmup) seconds.get(name)?.push(elapsed)
    }
  }

  const ratesOf = (name: Name): number[] =>
    (seconds.get(name) ?? []).map((elapsed) => operations / elapsed)
  const rates = Object.fromEntries(names.map((name) => [name, summarize(ratesOf(name))])) as Record<
    Name,
    Rate
  >
  return {
    rates,
    ratio(a: Name, b: Name): Rate {
      const left = ratesOf(a)
      const right = ratesOf(b)
      return summarize(left.map((value, index) => value / (right[index] ?? Number.NaN)))
    },
  }
}

/** Median and quartiles of a list of values. */
export function summarize(values: readonly number[]): Rate {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b)
  return {
    median: quantile(sorted, 0.5),
    low: quantile(sorted, 0.25),
    high: quantile(sorted, 0.75),
    samples: sorted.length,
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const below = Math.floor(position)
  const above = Math.ceil(position)
  const low = sorted[below] as number
  const high = sorted[above] as number
  return low + (high - low) * (position - below)
}

/** Runs async tasks with at most `concurrency` in flight and resolves when all are done. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next
      next += 1
      await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}
