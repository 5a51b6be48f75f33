// Turns the runner spec into the validated RunnerModel: the state values
// must be the ones of the target's runner API, every operation must say what
// happens in each state it can meet, and the state graph must be sound.
import { didYouMean } from "./diagnostics.ts";
import {
	POOL_CONDITIONS,
	POOL_EFFECTS,
	POOL_OUTCOMES,
	POOL_WAITS,
	type PoolCaseSpec,
	type PoolCondition,
	type PoolEffect,
	type PoolWait,
	RUNNER_CONDITIONS,
	RUNNER_EFFECTS,
	RUNNER_WAITS,
	type RunnerCondition,
	type RunnerEffect,
	type RunnerSpec,
	type RunnerWait,
} from "../spec/runner.ts";
import { isRecord, SpecInput } from "./input.ts";
import type { SourceIndex, ValuePath } from "./source-index.ts";
import type {
	PoolCaseModel,
	PoolModel,
	PoolOperationModel,
	PoolOutcomeModel,
	RunnerCaseModel,
	RunnerModel,
	RunnerOperationModel,
	RunnerStateModel,
} from "./types.ts";

/**
 * The 0.15 runner API (runner-api.md §1): `enum runner_status` values and
 * the names runner_state_name() returns. Compatibility needs exactly these.
 */
export const RUNNER_API_015 = [
	{ key: "IDLE", name: "idle" },
	{ key: "RUNNING", name: "running" },
	{ key: "DONE", name: "done" },
	{ key: "CANCELLED", name: "cancelled" },
	{ key: "DEAD", name: "dead" },
] as const;

/** Who may run each operation, and which states it can meet. */
const OPERATIONS = {
	start: { actor: "thread" },
	finish: { actor: "thread" },
	cancel: { actor: "caller" },
	poll: { actor: "caller" },
} as const;

/** A machine's words: what its states are called, its conditions, waits and effects. */
interface Vocabulary {
	readonly what: string;
	readonly conditions: Readonly<Record<string, string>>;
	readonly waits: Readonly<Record<string, string>>;
	readonly effects: Readonly<Record<string, string>>;
}
const RUNNER_VOCABULARY: Vocabulary = { what: "state", conditions: RUNNER_CONDITIONS, waits: RUNNER_WAITS, effects: RUNNER_EFFECTS };

type ErrorAt = (path: ValuePath, message: string) => void;

/**
 * The states of one case of an operation of either machine, checked: the
 * state it applies in, the one it moves to (not itself, not out of a
 * terminal state) and the one it returns (by default where it ends), its
 * condition, wait and effects. Undefined when the case's state is unknown.
 */
function caseStates<S extends { key: string; terminal?: boolean }>(
	c: { from: string; to?: string; returns?: string; when?: string; await?: string; effects?: readonly string[] },
	cpath: ValuePath,
	byKey: ReadonlyMap<string, S>,
	v: Vocabulary,
	error: ErrorAt,
): { from: S; to: S | undefined; returns: S | undefined } | undefined {
	const unknown = (field: string, name: unknown, kind: string, known: Iterable<string>) =>
		error([...cpath, field], `unknown ${kind} '${String(name)}'${didYouMean(String(name), known)}`);
	const from = byKey.get(c.from);
	if (!from) {
		unknown("from", c.from, v.what, byKey.keys());
		return undefined;
	}
	const to = c.to === undefined ? undefined : byKey.get(c.to);
	if (c.to !== undefined && !to) unknown("to", c.to, v.what, byKey.keys());
	if (to && from.terminal) error([...cpath, "to"], `terminal state ${from.key} cannot be left`);
	if (to === from) error([...cpath, "to"], `a transition from ${from.key} to itself changes nothing`);
	const returns = c.returns === undefined ? (to ?? from) : byKey.get(c.returns);
	if (!returns) unknown("returns", c.returns, v.what, byKey.keys());
	if (c.when !== undefined && !(c.when in v.conditions)) unknown("when", c.when, "condition", Object.keys(v.conditions));
	if (c.await !== undefined && !(c.await in v.waits)) unknown("await", c.await, "wait", Object.keys(v.waits));
	for (const e of c.effects ?? []) if (!(e in v.effects)) unknown("effects", e, "effect", Object.keys(v.effects));
	return { from, to, returns };
}

/** An operation's cases per state: conditional ones first, then exactly one that always applies. */
function casesByState<S, C extends { from: S; when?: unknown; loc: { line: number } }>(
	states: readonly (S & { key: string })[],
	cases: readonly C[],
	label: string,
	path: ValuePath,
	error: ErrorAt,
): { state: S; cases: C[] }[] {
	const byState: { state: S; cases: C[] }[] = [];
	for (const s of states) {
		const mine = cases.filter((c) => c.from === s);
		if (mine.length === 0) continue;
		const always = mine.findIndex((c) => !c.when);
		if (always >= 0 && always !== mine.length - 1) {
			error(path, `${label}: the case for ${s.key} at line ${mine[always + 1].loc.line} can never apply (an earlier case for ${s.key} always does)`);
		}
		if (always < 0) error(path, `${label} has no unconditional case for ${s.key}`);
		byState.push({ state: s, cases: mine });
	}
	return byState;
}

/** The state changes of a machine's operations, as [from, to] keys. */
function transitions(operations: readonly { byState: readonly { cases: readonly { from: { key: string }; to?: { key: string } }[] }[] }[]): [string, string][] {
	return operations.flatMap((o) => o.byState.flatMap((g) => g.cases.filter((c) => c.to).map((c): [string, string] => [c.from.key, c.to!.key])));
}

/** The states reachable from `initial` along `edges`. */
function reachable(edges: readonly [string, string][], initial: readonly string[]): Set<string> {
	const reached = new Set(initial);
	for (let grew = true; grew; ) {
		grew = false;
		for (const [a, b] of edges) {
			if (reached.has(a) && !reached.has(b)) {
				reached.add(b);
				grew = true;
			}
		}
	}
	return reached;
}

export function buildRunnerModel(spec: RunnerSpec, index: SourceIndex): RunnerModel {
	const input = new SpecInput(index);
	const error = (path: ValuePath, message: string) => input.error(path, message);
	const doc = (path: ValuePath, explicit?: unknown) => input.doc(path, explicit);

	input.onlyKeys(
		spec as unknown as Record<string, unknown>,
		["kind", "description", "copyright", "states", "initial", "terminal", "operations", "pool", "knobs", "asyncChecker"],
		[],
		"runner property",
	);
	if (typeof spec.copyright !== "string" || spec.copyright.trim() === "") error(["copyright"], "copyright is required");
	if (typeof spec.description !== "string" || spec.description.trim() === "") error(["description"], "description is required");
	const keys = isRecord(spec.states) ? Object.keys(spec.states) : [];
	if (keys.length !== RUNNER_API_015.length || keys.some((k, i) => RUNNER_API_015[i].key !== k)) {
		error(
			["states"],
			`the runner states must be, in this order (their values are the 0.15 API's): ${RUNNER_API_015.map((s) => s.key).join(", ")}`,
		);
		input.throwIfFailed();
	}
	const terminal = new Set(Array.isArray(spec.terminal) ? spec.terminal : []);
	for (const t of terminal) if (!keys.includes(t)) error(["terminal"], `terminal state '${t}' is not declared`);
	const states: RunnerStateModel[] = keys.map((key, value) => {
		const s = spec.states[key];
		if (!isRecord(s) || s.name !== RUNNER_API_015[value].name) {
			error(["states", key, "name"], `state ${key} must be named "${RUNNER_API_015[value].name}" (runner_state_name() in 0.15)`);
		}
		if (!isRecord(s) || typeof s.doc !== "string" || s.doc.trim() === "") error(["states", key], `state ${key} needs a doc`);
		return {
			key,
			value,
			name: RUNNER_API_015[value].name,
			doc: isRecord(s) && typeof s.doc === "string" ? s.doc : "",
			terminal: terminal.has(key),
		};
	});
	const byKey = new Map(states.map((s) => [s.key, s]));
	if (!byKey.has(spec.initial)) error(["initial"], `initial state '${spec.initial}' is not declared`);

	const operations: RunnerOperationModel[] = [];
	const opNames = isRecord(spec.operations) ? Object.keys(spec.operations) : [];
	for (const name of Object.keys(OPERATIONS)) {
		if (!opNames.includes(name)) error(["operations"], `operation '${name}' is missing`);
	}
	for (const name of opNames) {
		const path = ["operations", name];
		if (!(name in OPERATIONS)) {
			error(path, `unknown operation '${name}'${didYouMean(name, Object.keys(OPERATIONS))} (operations: ${Object.keys(OPERATIONS).join(", ")})`);
			continue;
		}
		const op = spec.operations[name];
		const expected = OPERATIONS[name as keyof typeof OPERATIONS];
		if (op.actor !== expected.actor) error([...path, "actor"], `operation '${name}' is run by the ${expected.actor}`);
		const cases: RunnerCaseModel[] = [];
		(Array.isArray(op.cases) ? op.cases : []).forEach((c, i) => {
			const cpath = [...path, "cases", i];
			const core = caseStates(c, cpath, byKey, RUNNER_VOCABULARY, error);
			if (!core) return;
			const { from, to, returns } = core;
			if (c.call !== undefined) {
				if (!(c.call in OPERATIONS) || c.call === name) error([...cpath, "call"], `cannot call operation '${c.call}' here`);
				else if (OPERATIONS[c.call as keyof typeof OPERATIONS].actor !== expected.actor) {
					error([...cpath, "call"], `operation '${c.call}' belongs to another actor`);
				}
				if (c.to !== undefined || c.returns !== undefined) error(cpath, "a case that calls another operation returns what it returns");
			}
			if (c.effects?.length && !to) error([...cpath, "effects"], "effects follow a state change: give `to`");
			if (!returns) return;
			cases.push({
				from,
				when: c.when ? { key: c.when, doc: RUNNER_CONDITIONS[c.when as RunnerCondition] } : undefined,
				await: c.await ? { key: c.await, doc: RUNNER_WAITS[c.await as RunnerWait] } : undefined,
				to,
				effects: ((c.effects ?? []) as RunnerEffect[]).map((key) => ({ key, doc: RUNNER_EFFECTS[key] })),
				call: c.call,
				returns,
				doc: doc(cpath, c.doc),
				loc: index.locate(cpath),
			});
		});
		const byState = casesByState(states, cases, `operation '${name}'`, ["operations", name], error);
		operations.push({
			key: name,
			actor: op.actor,
			doc: typeof op.doc === "string" ? op.doc : "",
			byState,
			loc: index.locate(path),
		});
	}
	// every state must be reachable and every non-terminal state must have a way out
	const edges = transitions(operations);
	const reached = reachable(edges, [spec.initial]);
	for (const s of states) {
		if (!reached.has(s.key)) error(["states", s.key], `runner state ${s.key} is unreachable`);
		if (!s.terminal && !edges.some(([a]) => a === s.key)) error(["states", s.key], `runner state ${s.key} has no exit and is not terminal`);
	}
	const pool = buildPool(spec, input, index);
	const stackSize = spec.knobs?.stackSize;
	const idleTimeoutMs = spec.knobs?.idleTimeoutMs;
	if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 1 || idleTimeoutMs > 86400000) {
		error(["knobs", "idleTimeoutMs"], "idleTimeoutMs must be an integer in 1..86400000");
	}
	if (!Number.isInteger(stackSize) || stackSize < 4096) error(["knobs", "stackSize"], "stackSize must be an integer ≥ 4096");
	const batchWorkers = spec.knobs?.batchWorkers;
	if (typeof batchWorkers !== "boolean") error(["knobs", "batchWorkers"], "batchWorkers must be true or false");
	const maxNr = spec.asyncChecker?.maxNrTimeouts;
	if (!Number.isInteger(maxNr) || maxNr < 0 || maxNr > 8) error(["asyncChecker", "maxNrTimeouts"], "maxNrTimeouts must be 0..8");
	input.throwIfFailed();
	return {
		kind: "runner",
		description: spec.description,
		copyright: spec.copyright,
		specFile: index.file,
		states,
		initial: spec.initial,
		operations,
		pool: pool!,
		stackSize,
		idleTimeoutMs,
		batchWorkers,
		maxNrTimeouts: maxNr,
	};
}

/** Who runs each operation of the pool, and which effects it may have. */
const POOL_OPERATIONS = {
	provide: { actor: "caller", effects: ["wakeThread", "startThread"], returns: true },
	take: { actor: "thread", effects: ["takeCheck", "provide", "retire"], returns: true },
	end: { actor: "thread", effects: ["endThread", "provide", "rejoin"], returns: true },
	release: { actor: "caller", effects: ["wakeAll"], returns: false },
} as const satisfies Record<string, { actor: string; effects: readonly PoolEffect[]; returns: boolean }>;

/**
 * The pool of the persistent runners: each operation's cases are tried in
 * order, so every one but the last needs a condition and the last has
 * none; a case that waits comes last; an effect belongs to the operations
 * whose fixed code can run it, and one that takes the thread away from the
 * queue (takeCheck, endThread) is followed by a provide; an operation
 * returns an outcome in every case but one that waits, or (release) never.
 */
function buildPool(spec: RunnerSpec, input: SpecInput, index: SourceIndex): PoolModel | undefined {
	const error = (path: ValuePath, message: string) => input.error(path, message);
	const p = spec.pool;
	if (!isRecord(p)) {
		error(["pool"], "pool (the threads of get_persistent_runner()) is required");
		return undefined;
	}
	input.onlyKeys(p as unknown as Record<string, unknown>, ["doc", "operations"], ["pool"], "pool property");
	if (typeof p.doc !== "string" || p.doc.trim() === "") error(["pool", "doc"], "pool needs a doc");
	const outcomes: PoolOutcomeModel[] = Object.entries(POOL_OUTCOMES).map(([key, doc], value) => ({ key, value, doc }));
	const outcome = new Map(outcomes.map((o) => [o.key, o]));
	const opNames = isRecord(p.operations) ? Object.keys(p.operations) : [];
	for (const name of Object.keys(POOL_OPERATIONS)) {
		if (!opNames.includes(name)) error(["pool", "operations"], `pool operation '${name}' is missing`);
	}
	const operations: PoolOperationModel[] = [];
	const used = new Set<string>();
	for (const name of opNames) {
		const path = ["pool", "operations", name];
		if (!(name in POOL_OPERATIONS)) {
			error(path, `unknown pool operation '${name}'${didYouMean(name, Object.keys(POOL_OPERATIONS))} (operations: ${Object.keys(POOL_OPERATIONS).join(", ")})`);
			continue;
		}
		const op = p.operations[name];
		const expected = POOL_OPERATIONS[name as keyof typeof POOL_OPERATIONS];
		if (!isRecord(op)) {
			error(path, `pool operation '${name}' needs an actor, a doc and cases`);
			continue;
		}
		if (op.actor !== expected.actor) error([...path, "actor"], `pool operation '${name}' is run by the ${expected.actor}`);
		const specCases = Array.isArray(op.cases) ? op.cases : [];
		if (specCases.length === 0) error([...path, "cases"], `pool operation '${name}' needs cases`);
		const cases: PoolCaseModel[] = [];
		specCases.forEach((raw: unknown, i) => {
			const cpath = [...path, "cases", i];
			const last = i === specCases.length - 1;
			const unknown = (field: string, value: unknown, kind: string, known: Iterable<string>) =>
				error([...cpath, field], `unknown ${kind} '${String(value)}'${didYouMean(String(value), known)}`);
			if (!isRecord(raw)) {
				error(cpath, "a case is an object");
				return;
			}
			const c = raw as PoolCaseSpec;
			input.onlyKeys(c as unknown as Record<string, unknown>, ["when", "await", "effects", "returns", "doc"], cpath, "case property");
			if (c.when !== undefined && !(c.when in POOL_CONDITIONS)) unknown("when", c.when, "condition", Object.keys(POOL_CONDITIONS));
			if (c.await !== undefined && !(c.await in POOL_WAITS)) unknown("await", c.await, "wait", Object.keys(POOL_WAITS));
			if (!last && c.when === undefined) error(cpath, `pool operation '${name}': the cases after this one can never apply (it has no condition)`);
			if (last && c.when !== undefined) error(cpath, `pool operation '${name}': the last case applies when no other does: no \`when\``);
			if (c.await !== undefined && !last) error(cpath, "a case that waits looks at the cases again: it comes last");
			if (c.await !== undefined && (c.effects?.length || c.returns !== undefined)) {
				error(cpath, "a case that waits looks at the cases again: no `effects` or `returns`");
			}
			const effects = (Array.isArray(c.effects) ? c.effects : []) as PoolEffect[];
			for (const e of effects) {
				if (!(e in POOL_EFFECTS)) unknown("effects", e, "effect", Object.keys(POOL_EFFECTS));
				else if (!(expected.effects as readonly string[]).includes(e)) {
					error([...cpath, "effects"], `effect '${e}' is not one of pool operation '${name}' (${expected.effects.join(", ")})`);
				}
				used.add(e);
			}
			// the checks still queued need a thread once this one is no
			// longer awake for them: another awake, woken or started
			for (const e of ["takeCheck", "endThread"] as const) {
				const at = effects.indexOf(e);
				if (at >= 0 && !effects.slice(at + 1).includes("provide")) {
					error([...cpath, "effects"], `${e} leaves the checks still queued to no thread unless provide follows it`);
				}
			}
			const start = effects.indexOf("startThread");
			if (start >= 0 && start !== effects.length - 1) error([...cpath, "effects"], "startThread can fail, so it comes last");
			const returns = c.returns === undefined ? undefined : outcome.get(c.returns);
			if (c.returns !== undefined && !returns) unknown("returns", c.returns, "outcome", outcome.keys());
			if (expected.returns && c.await === undefined && c.returns === undefined) error(cpath, `pool operation '${name}' returns an outcome in every case`);
			if (!expected.returns && c.returns !== undefined) error([...cpath, "returns"], `pool operation '${name}' returns nothing`);
			if (start >= 0 && c.returns !== "PROVIDED") error([...cpath, "returns"], "startThread returns NO_THREAD when it fails, PROVIDED otherwise");
			cases.push({
				when: c.when ? { key: c.when, doc: POOL_CONDITIONS[c.when as PoolCondition] } : undefined,
				await: c.await ? { key: c.await, doc: POOL_WAITS[c.await as PoolWait] } : undefined,
				effects: effects.filter((key) => key in POOL_EFFECTS).map((key) => ({ key, doc: POOL_EFFECTS[key] })),
				returns,
				doc: input.doc(cpath, c.doc),
				loc: index.locate(cpath),
			});
		});
		operations.push({
			key: name,
			actor: expected.actor,
			doc: typeof op.doc === "string" ? op.doc : "",
			cases,
			returnsOutcome: expected.returns,
			loc: index.locate(path),
		});
	}
	// the fixed code needs each thread to be able to end, and checks to be taken
	for (const [e, why] of [
		["takeCheck", "no thread would ever take a check"],
		["retire", "an idle thread would never end"],
		["endThread", "a thread cancelled in a check would go on to the next one with a cancellation request pending"],
		["startThread", "no thread would ever be started"],
	] as const) {
		if (!used.has(e) && operations.length === Object.keys(POOL_OPERATIONS).length) error(["pool", "operations"], `no case has effect '${e}': ${why}`);
	}
	return { doc: p.doc, outcomes, operations };
}
