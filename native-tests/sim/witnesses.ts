// Test cases derived from a checker model, so a new rule in a spec gets
// tests without anyone writing them: for every rule of every state, answer
// sequences that reach the state and make that rule match (in both sense
// formats, for each host status it names, with its retry budget spent and
// not spent). The interpreter confirms each case hits its rule; the test
// then asserts that every rule was hit.
import type { CheckerModel, ConditionModel, RuleModel, StateModel } from "../../generator/model/types.ts";
import { initialContext, initialMapContext, interpretCheck, type CheckResult, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import { size, values } from "../../generator/model/intervals.ts";
import { ERRNO, HOST_STATUS } from "../../generator/spec/vocabulary.ts";
import { synthesizeData } from "./data-synth.ts";

export interface WitnessCheck {
	answers: SimAnswer[];
	expected: CheckResult;
}

/**
 * Checks on one path from the initial context: the last one hits the rule;
 * the ones before it (if any) bring the context where it needs to be.
 */
export interface Witness {
	id: string;
	state: string;
	rule: number;
	checks: WitnessCheck[];
}

/** A small deterministic PRNG (mulberry32), so generated cases are stable. */
export function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function pickFrom(set: readonly (readonly [number, number])[], r: () => number, prefer: number[] = []): number {
	const preferred = prefer.filter((v) => set.some(([lo, hi]) => v >= lo && v <= hi));
	if (preferred.length > 0 && r() < 0.8) return preferred[Math.floor(r() * preferred.length)];
	const total = size(set);
	let k = Math.floor(r() * total);
	for (const [lo, hi] of set) {
		if (k <= hi - lo) return lo + k;
		k -= hi - lo + 1;
	}
	return set[0][0];
}

function cond(rule: RuleModel, kind: ConditionModel["fact"]["kind"]): ConditionModel | undefined {
	return rule.conditions.find((c) => c.fact.kind === kind);
}

/** Sense data in fixed (0x70) or descriptor (0x72) format. */
export function senseBytes(key: number, asc: number, ascq: number, descriptor: boolean): number[] {
	if (descriptor) return [0x72, key, asc, ascq, 0, 0, 0, 0];
	return [0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0];
}

export interface AnswerContext {
	ctx: ContextValues;
	state: StateModel;
	length: number;
}

/** An answer that satisfies the rule's answer facts (context facts are the caller's). */
export function answerFor(rule: RuleModel, at: AnswerContext, r: () => number, descriptor: boolean, host?: number): SimAnswer {
	const errno = cond(rule, "errno");
	if (errno && !(errno.allowed.length === 1 && errno.allowed[0][0] === 0 && errno.allowed[0][1] === 0)) {
		return { errno: pickFrom(errno.allowed, r, Object.values(ERRNO)) };
	}
	const a: SimAnswer = {};
	const key = cond(rule, "senseKey");
	const code = cond(rule, "senseCode");
	const sgInfo = cond(rule, "sgInfo");
	const status = cond(rule, "status");
	const hostStatus = cond(rule, "hostStatus");
	const outcome = cond(rule, "dataOutcome");
	if (outcome) {
		const use = at.state.kind === "command" ? at.state.decoder! : undefined!;
		const fields: Record<string, readonly (readonly [number, number])[]> = {};
		for (const c of rule.conditions) if (c.fact.kind === "dataField") fields[c.fact.field.key] = c.allowed;
		const which = use.decoder.outcomes[pickFrom(outcome.allowed, r)].key;
		const inputs = Object.fromEntries(use.inputs.map((i) => [i.key, at.ctx[i.field.key]]));
		const synth = synthesizeData(use.decoder, which, fields, inputs, at.length, r);
		return { status: 0, info: 0, hostStatus: 0, driverStatus: 0, data: synth.data, resid: synth.resid };
	}
	// a default rule of a decoding state (or one that tests the context
	// only) may be reached by decoded data only
	if (rule.conditions.every((c) => c.fact.kind === "context") && at.state.kind === "command" && at.state.decoder && r() < 0.5) {
		const use = at.state.decoder;
		const which = use.decoder.outcomes[Math.floor(r() * use.decoder.outcomes.length)].key;
		const inputs = Object.fromEntries(use.inputs.map((i) => [i.key, at.ctx[i.field.key]]));
		const synth = synthesizeData(use.decoder, which, {}, inputs, at.length, r);
		return { status: 0, info: 0, hostStatus: 0, driverStatus: 0, data: synth.data, resid: synth.resid };
	}
	if (key || code) {
		const k = key ? pickFrom(key.allowed, r) : Math.floor(r() * 16);
		const c = code ? pickFrom(code.allowed, r) : Math.floor(r() * 0x10000);
		a.sense = senseBytes(k, c >> 8, c & 0xff, descriptor);
		a.status = 0x02;
		a.driverStatus = 0x08;
		a.info = 1;
	}
	if (status) a.status = pickFrom(status.allowed, r) | (r() < 0.5 ? 0x01 : 0);
	// a driver status test without a status one: the status is not always CHECK CONDITION
	else if (cond(rule, "driverStatus") && a.status !== undefined && r() < 0.5) a.status = 0;
	if (sgInfo) a.info = sgInfo.allowed[0][0];
	// a rule without answer facts (a default) is reached by a clean answer too
	else if (a.info === undefined) a.info = rule.conditions.length === 0 && r() < 0.5 ? 0 : 1;
	if (a.status === undefined) a.status = a.info ? 0x02 : 0;
	if (host !== undefined) a.hostStatus = host;
	else if (hostStatus) a.hostStatus = pickFrom(hostStatus.allowed, r, Object.values(HOST_STATUS));
	else a.hostStatus = 0;
	const driver = cond(rule, "driverStatus");
	if (driver) a.driverStatus = pickFrom(driver.allowed, r, [0, 0x08, 0x06]);
	if (a.sense === undefined && a.info && r() < 0.5) {
		// some CHECK answers carry unrelated sense data
		a.sense = senseBytes(0, 0, 0, descriptor);
	}
	return a;
}

/** How many transitions each state is from `target` (Infinity if never). */
function distances(m: CheckerModel, target: string): Map<string, number> {
	const d = new Map<string, number>(m.states.map((s) => [s.key, Infinity]));
	d.set(target, 0);
	for (let changed = true; changed; ) {
		changed = false;
		for (const s of m.states) {
			for (const t of successorsOf(s)) {
				const via = (d.get(t) ?? Infinity) + 1;
				if (via < (d.get(s.key) ?? Infinity)) {
					d.set(s.key, via);
					changed = true;
				}
			}
		}
	}
	return d;
}

function successorsOf(s: StateModel): string[] {
	return s.rules.flatMap((r) => {
		const o = r.outcome;
		if (o.kind === "goto") return [o.target.key];
		if (o.kind === "retry") return [o.target.key, ...(o.exhausted?.kind === "goto" ? [o.exhausted.target.key] : [])];
		return [];
	});
}

function targetOf(r: RuleModel): string[] {
	const o = r.outcome;
	if (o.kind === "goto") return [o.target.key];
	if (o.kind === "retry") return [o.target.key];
	return [];
}

export interface WitnessOptions {
	seed?: number;
	/** Attempts per rule before giving up on it. */
	attempts?: number;
}

/**
 * Cases for every rule of every state. The coverage the test asserts is
 * computed from the cases' steps, not from this function's intentions.
 */
export function ruleWitnesses(m: CheckerModel, opts: WitnessOptions = {}): Witness[] {
	const r = rng(opts.seed ?? 1);
	const attempts = opts.attempts ?? 400;
	const out: Witness[] = [];
	for (const state of m.states) {
		const dist = distances(m, state.key);
		for (const rule of state.rules) {
			const hostValues =
				cond(rule, "hostStatus") !== undefined
					? values(cond(rule, "hostStatus")!.allowed).filter((v) => v <= 0x20)
					: [undefined];
			const hasSense = cond(rule, "senseKey") !== undefined || cond(rule, "senseCode") !== undefined;
			// a retry rule is tested with its budget spent ("same" answer
			// every time) and not spent (another answer after the retry)
			const o = rule.outcome;
			const goals: { again: "same" | "other"; action?: string }[] =
				o.kind !== "retry"
					? [{ again: "other" }]
					: [
							{ again: "other", action: "retry" },
							{ again: "same", action: o.exhausted ? "exhausted" : undefined },
						];
			const variants: { descriptor: boolean; host?: number; again: "same" | "other"; action?: string; tag: string }[] = [];
			for (const host of hostValues) {
				for (const descriptor of hasSense ? [false, true] : [false]) {
					for (const g of goals) {
						variants.push({
							descriptor,
							host,
							...g,
							tag: `${descriptor ? "desc" : "fixed"}${host === undefined ? "" : `-host${host}`}-${g.again}`,
						});
					}
				}
			}
			for (const v of variants) {
				for (let attempt = 0; attempt < attempts; attempt++) {
					// most attempts start from the initial context; some
					// first run a check or two of random rule answers on
					// the same path, for rules that need a context only
					// an earlier check leaves behind
					const checks: WitnessCheck[] = [];
					// the path's context and its map's: a check can see and change both
					let ctx = initialContext(m);
					let map = initialMapContext(m);
					const priming = attempt % 4 === 3 ? 1 + Math.floor(r() * 2) : 0;
					try {
						for (let k = 0; k < priming; k++) {
							const answers: SimAnswer[] = [];
							const expected = interpretCheck(
								m,
								(cmd, _i, at) => {
									// half the time a rule that moves on or sets the
									// context: what leaves a context behind
									const movers = at.state.rules.filter((x) => x.outcome.kind === "goto" || (x.outcome.kind === "report" && x.outcome.assignments.length > 0));
									const pool = movers.length > 0 && r() < 0.5 ? movers : at.state.rules;
									const a = answerFor(pool[Math.floor(r() * pool.length)], { ...at, length: cmd.length }, r, r() < 0.5);
									answers.push(a);
									return a;
								},
								ctx,
								undefined,
								map,
							);
							checks.push({ answers, expected });
							ctx = expected.context;
							map = expected.map;
						}
					} catch {
						continue;
					}
					const answers: SimAnswer[] = [];
					let visits = 0;
					let result: CheckResult;
					try {
						result = interpretCheck(
							m,
							(cmd, _i, at) => {
								let a: SimAnswer;
								const here = at.state;
								if (here.key === state.key && (visits++ === 0 || v.again === "same")) {
									a = answerFor(rule, { ...at, length: cmd.length }, r, v.descriptor, v.host);
								} else {
									// move towards the target state, or anywhere
									const d = dist.get(here.key) ?? Infinity;
									const towards = here.rules.filter((x) => targetOf(x).some((t) => (dist.get(t) ?? Infinity) < d));
									const pool = towards.length > 0 && r() < 0.85 ? towards : here.rules;
									const pick = pool[Math.floor(r() * pool.length)];
									a = answerFor(pick, { ...at, length: cmd.length }, r, r() < 0.5);
								}
								answers.push(a);
								return a;
							},
							ctx,
							undefined,
							map,
						);
					} catch {
						continue;
					}
					if (answers.length > 60) continue;
					const hit = result.steps.some(
						(s) => s.state === state.key && s.rule === rule.index && (!v.action || s.action === v.action),
					);
					if (hit) {
						checks.push({ answers, expected: result });
						out.push({ id: `${state.key}.r${rule.index + 1}.${v.tag}`, state: state.key, rule: rule.index, checks });
						break;
					}
				}
			}
		}
	}
	return out;
}

/** Which (state, rule, action) the cases exercise. */
export function coverage(results: CheckResult[]): Set<string> {
	const seen = new Set<string>();
	for (const res of results) for (const s of res.steps) seen.add(`${s.state}#${s.rule}#${s.action}`);
	return seen;
}

/** Every (state, rule, action) a model can take, for the coverage assertion. */
export function expectedCoverage(m: CheckerModel): string[] {
	const out: string[] = [];
	for (const s of m.states) {
		for (const rule of s.rules) {
			const o = rule.outcome;
			if (o.kind === "retry") {
				out.push(`${s.key}#${rule.index}#retry`);
				// a spent budget that falls through is no path of its own:
				// the later rules are covered by their own cases
				if (o.exhausted) out.push(`${s.key}#${rule.index}#exhausted`);
			} else out.push(`${s.key}#${rule.index}#${o.kind}`);
		}
	}
	return out;
}
