// The shape of bench/results/latest.json.
import type { Stat } from './stats.ts';
import type { ProgramId } from './programs.ts';

export interface Metric {
  key: string;
  label: string;
  unit: string;
}

export interface Row {
  program: ProgramId | 'image';
  /** As shown: the program and how it was run, e.g. "catatonit -P". */
  label: string;
  values: Record<string, Stat | null>;
  /** Why a value is missing, or how it was measured when that differs. */
  note?: string;
}

export interface Figure {
  id: string;
  title: string;
  /** How it was measured, in a sentence or two. */
  method: string;
  metrics: Metric[];
  rows: Row[];
}

export interface Results {
  date: string;
  quick: boolean;
  /** load: the 1, 5 and 15 min load averages as the run began; loadAtEnd as it ended. */
  machine: { kernel: string; cpus: number; node: string; load: number[]; loadAtEnd: number[] };
  tools: Record<string, string>;
  figures: Figure[];
}
