// Turns the runner spec into the validated RunnerModel: the state values
// must be the ones of the target's runner API, every operation must say what
// happens in each state it can meet, and the state graph must be sound.
import { didYouMean } from "./diagnostics.ts";
import {
	PERSISTENT_CONDITIONS,
	PERSISTENT_EFFECTS,
	PERSISTENT_WAITS,
	type PersistentCondition,
	type PersistentEffect,
	type PersistentWait,
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
	PersistentCaseModel,
	PersistentModel,
	PersistentOperationModel,
	PersistentStateModel,
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
const PERSISTENT_VOCABULARY: Vocabulary = { what: "worker state", conditions: PERSISTENT_CONDITIONS, waits: PERSISTENT_WAITS, effects: PERSISTENT_EFFECTS };

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
		["kind", "description", "copyright", "states", "initial", "terminal", "operations", "persistent", "knobs", "asyncChecker"],
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
	const persistent = buildPersistent(spec, input, index);
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
		persistent: persistent!,
		stackSize,
		idleTimeoutMs,
		batchWorkers,
		maxNrTimeouts: maxNr,
	};
}

/** Who may run each operation of the persistent worker. */
const PERSISTENT_OPERATIONS = {
	submit: { actor: "caller" },
	take: { actor: "thread" },
	end: { actor: "thread" },
	release: { actor: "caller" },
} as const;

/**
 * The worker machine of the persistent runner: every operation must say
 * what happens in each state it can meet, a case that waits must look at
 * the state again, and every state must be reachable from the initial one.
 */
function buildPersistent(spec: RunnerSpec, input: SpecInput, index: SourceIndex): PersistentModel | undefined {
	const error = (path: ValuePath, message: string) => input.error(path, message);
	const p = spec.persistent;
	if (!isRecord(p)) {
		error(["persistent"], "persistent (the worker of get_persistent_runner()) is required");
		return undefined;
	}
	input.onlyKeys(p as unknown as Record<string, unknown>, ["doc", "states", "initial", "operations"], ["persistent"], "persistent property");
	if (typeof p.doc !== "string" || p.doc.trim() === "") error(["persistent", "doc"], "persistent needs a doc");
	const keys = isRecord(p.states) ? Object.keys(p.states) : [];
	const states: PersistentStateModel[] = keys.map((key, value) => {
		const s = p.states[key];
		if (!/^[A-Z][A-Z0-9_]*$/.test(key)) error(["persistent", "states", key], `worker state ${key} must be an upper-case C name`);
		if (!isRecord(s) || typeof s.doc !== "string" || s.doc.trim() === "") error(["persistent", "states", key], `worker state ${key} needs a doc`);
		return { key, value, doc: isRecord(s) && typeof s.doc === "string" ? s.doc : "" };
	});
	const byKey = new Map(states.map((s) => [s.key, s]));
	const initial = byKey.get(p.initial);
	if (!initial) error(["persistent", "initial"], `initial worker state '${String(p.initial)}' is not declared`);
	const opNames = isRecord(p.operations) ? Object.keys(p.operations) : [];
	for (const name of Object.keys(PERSISTENT_OPERATIONS)) {
		if (!opNames.includes(name)) error(["persistent", "operations"], `worker operation '${name}' is missing`);
	}
	const operations: PersistentOperationModel[] = [];
	for (const name of opNames) {
		const path = ["persistent", "operations", name];
		if (!(name in PERSISTENT_OPERATIONS)) {
			error(path, `unknown worker operation '${name}' (operations: ${Object.keys(PERSISTENT_OPERATIONS).join(", ")})`);
			continue;
		}
		const op = p.operations[name];
		const expected = PERSISTENT_OPERATIONS[name as keyof typeof PERSISTENT_OPERATIONS];
		if (op.actor !== expected.actor) error([...path, "actor"], `worker operation '${name}' is run by the ${expected.actor}`);
		const cases: PersistentCaseModel[] = [];
		(Array.isArray(op.cases) ? op.cases : []).forEach((c, i) => {
			const cpath = [...path, "cases", i];
			const core = caseStates(c, cpath, byKey, PERSISTENT_VOCABULARY, error);
			if (!core) return;
			const { from, to, returns } = core;
			if (c.await !== undefined && (c.to !== undefined || c.effects?.length || c.returns !== undefined)) {
				error(cpath, "a case that waits looks at the state again: no `to`, `effects` or `returns`");
			}
			const eff = (c.effects ?? []) as PersistentEffect[];
			const start = eff.indexOf("startThread");
			if (start >= 0 && start !== eff.length - 1) error([...cpath, "effects"], "startThread can fail, so it comes last");
			if (!returns) return;
			cases.push({
				from,
				when: c.when ? { key: c.when, doc: PERSISTENT_CONDITIONS[c.when as PersistentCondition] } : undefined,
				await: c.await ? { key: c.await, doc: PERSISTENT_WAITS[c.await as PersistentWait] } : undefined,
				to,
				effects: eff.map((key) => ({ key, doc: PERSISTENT_EFFECTS[key] })),
				returns,
				doc: input.doc(cpath, c.doc),
				loc: index.locate(cpath),
			});
		});
		const byState = casesByState(states, cases, `worker operation '${name}'`, path, error);
		operations.push({ key: name, actor: op.actor, doc: typeof op.doc === "string" ? op.doc : "", byState, loc: index.locate(path) });
	}
	// a caller may meet every state: submit and release must handle them all
	for (const op of operations) {
		if (op.actor !== "caller") continue;
		for (const s of states) {
			if (!op.byState.some((g) => g.state === s)) error(["persistent", "operations", op.key], `worker operation '${op.key}' must handle state ${s.key}`);
		}
	}
	const reached = reachable(transitions(operations), initial ? [initial.key] : []);
	for (const s of states) if (initial && !reached.has(s.key)) error(["persistent", "states", s.key], `worker state ${s.key} is unreachable`);
	if (!initial) return undefined;
	return { doc: p.doc, states, initial, operations };
}
