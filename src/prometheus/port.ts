/** One sample of an instant vector (or a scalar, with no labels). */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One point of a range query's series; `time` in epoch milliseconds. */
export interface Point {
  time: number;
  value: number;
}

/** One series of a range query's matrix. */
export interface Series {
  labels: Record<string, string>;
  points: Point[];
}

/** The span and resolution of a range query. */
export interface QueryRange {
  start: Date;
  end: Date;
  stepMs: number;
}

/**
 * What aegis-ir needs from Prometheus: its HTTP API's `query` and `query_range`, answers validated.
 * Implemented over axios; exercised in tests against a real Prometheus and the sandbox's simulator.
 */
export interface PrometheusPort {
  /** The API's base URL as it may be shown (no credentials). */
  readonly url: string;
  /** Evaluates `promql` at `at`: `/api/v1/query`. The request stops when `signal` aborts. */
  query(promql: string, at: Date, signal: AbortSignal): Promise<Sample[]>;
  /** Evaluates `promql` over a range: `/api/v1/query_range`. The request stops when `signal` aborts. */
  queryRange(promql: string, range: QueryRange, signal: AbortSignal): Promise<Series[]>;
}

/** Where Prometheus is and how to talk to it. */
export interface PrometheusTarget {
  url: string;
  token?: string;
  requestTimeoutMs: number;
}
