/**
 * Where an input comes from (a flag, its `DNB_` twin, or the action's input of that name) and how
 * a bad one is named in the one-line error.
 */
import type { z } from "zod";
import { InputError } from "../core/errors.ts";
import { ACTION_INPUTS, envTwin, type RoleFlag } from "./options.ts";

/** What the edge hands the loader: parsed flags, the environment, and the few facts defaults depend on. */
export interface ConfigSources {
  readonly flags: Readonly<Partial<Record<RoleFlag, string | boolean>>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readTextFile: (path: string) => string;
  /** A few random characters that keep default hostnames from colliding. */
  readonly randomSuffix: () => string;
  readonly platform: { readonly os: string; readonly arch: string };
}

/** One input as the user gave it, and the name to blame in a message. */
export interface RawInput {
  readonly value: string | boolean;
  readonly name: string;
}

export function rawInput(sources: ConfigSources, flag: RoleFlag): RawInput | undefined {
  const fromFlag = sources.flags[flag];
  if (fromFlag !== undefined) return { value: fromFlag, name: flag };
  const twin = envTwin(flag);
  const fromEnv = sources.env[twin];
  // The action passes unset inputs as empty variables; an empty twin means "not given".
  if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, name: envName(sources, twin, flag) };
  return undefined;
}

/** An env twin as the user knows it: under the action, the input they wrote in the workflow. */
export function envName(sources: ConfigSources, variable: string, key: string): string {
  const input = sources.env.DNB_FROM_ACTION === "true" ? ACTION_INPUTS[key] : undefined;
  return input === undefined ? variable : `input ${input} (${variable})`;
}

/** A short, escaped rendering of a bad value for a one-line message. */
export function quoteValue(value: string | boolean): string {
  const text = String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

export function parseInput<T>(input: RawInput, schema: z.ZodType<T>, showValue = true): T {
  const result = schema.safeParse(typeof input.value === "boolean" ? String(input.value) : input.value);
  if (result.success) return result.data;
  const problem = result.error.issues[0]?.message ?? "is not valid";
  throw new InputError(showValue ? `${input.name} ${quoteValue(input.value)}` : input.name, problem);
}

export function readOption<T>(sources: ConfigSources, flag: RoleFlag, schema: z.ZodType<T>): T | undefined {
  const input = rawInput(sources, flag);
  return input === undefined ? undefined : parseInput(input, schema);
}
