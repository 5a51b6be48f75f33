// The model as a target sees a checker's init. A target whose init can do
// I/O (0.9: libcheck_init gets the path's fd) runs the init states in
// libcheck_init: the model as it is. A target whose init cannot (0.15 calls
// libcheck_async_init with fd -1) gets, by the spec's `withoutInitIo`:
// - "atFirstCheck": a context field `initDone` and a start state deciding
//   from it: on the path's first check the init states run, then (each
//   done becoming a goto) the check's initial state; later checks go
//   straight to the check;
// - "skip": the model without the init states.
// Either way the view has no init (`init: null`) and is an ordinary model,
// so every back end (the C, the interpreter, the diagrams, the tests)
// reads it like any other.
import { abiProfile } from "../abi/profiles.ts";
import type {
	AssignmentModel,
	CheckerModel,
	CommandModel,
	ConditionModel,
	ContextFieldModel,
	DecoderModel,
	FinalOutcomeModel,
	OutcomeModel,
	RuleModel,
	StateModel,
} from "./types.ts";

const VIEWS = new WeakMap<CheckerModel, CheckerModel>();

/** The model of `m` for `target` (the model itself when the target's init can do I/O, or without init states). */
export function checkerForTarget(m: CheckerModel, target: string): CheckerModel {
	const p = abiProfile(target);
	if (!m.init || !p || p.initIo) return m;
	let v = VIEWS.get(m);
	if (!v) {
		v = m.init.withoutInitIo === "skip" ? withoutInit(m) : initAtFirstCheck(m);
		VIEWS.set(m, v);
	}
	return v;
}

/** A name not yet taken, `base` if it is free. */
function fresh(base: string, taken: Iterable<string>): string {
	const t = new Set(taken);
	if (!t.has(base)) return base;
	for (let i = 2; ; i++) if (!t.has(`${base}${i}`)) return `${base}${i}`;
}

function finish(m: CheckerModel, states: StateModel[], initial: StateModel, context: readonly ContextFieldModel[]): CheckerModel {
	const decoders: DecoderModel[] = [];
	for (const s of states) if (s.kind === "command" && s.decoder && !decoders.includes(s.decoder.decoder)) decoders.push(s.decoder.decoder);
	const used = new Set(states.flatMap((s) => s.rules.flatMap((r) => (r.outcome.kind === "retry" ? [r.outcome.budget] : []))));
	return {
		...m,
		context,
		states,
		initial,
		init: null,
		budgets: m.budgets.filter((b) => used.has(b)),
		maxDataLength: Math.max(0, ...states.map((s) => (s.kind === "command" ? s.command.maxDataLength : 0))),
		decoders,
	};
}

function withoutInit(m: CheckerModel): CheckerModel {
	const init = new Set(m.init!.states);
	return finish(
		m,
		m.states.filter((s) => !init.has(s)),
		m.initial,
		m.context,
	);
}

function initAtFirstCheck(m: CheckerModel): CheckerModel {
	const init = m.init!;
	const loc = init.loc;
	const initDone: ContextFieldModel = {
		key: fresh("initDone", m.context.map((f) => f.key)),
		type: "bool",
		length: 0,
		scope: { kind: "path" },
		init: 0,
		max: 1,
		bounded: false,
		doc: "the init states have run (on the path's first check: the target's init runs with fd -1)",
		loc,
	};
	// the init states, copied with each done a goto to the check's initial state
	const copies = new Map<StateModel, StateModel & { rules: RuleModel[] }>();
	for (const s of init.states) copies.set(s, { ...s, rules: [] } as StateModel & { rules: RuleModel[] });
	const at = (s: StateModel): StateModel => copies.get(s) ?? s;
	const final = (o: FinalOutcomeModel): FinalOutcomeModel =>
		o.kind === "done"
			? { kind: "goto", target: m.initial, assignments: o.assignments, ...(o.log !== undefined ? { log: o.log } : {}) }
			: o.kind === "goto"
				? { ...o, target: at(o.target) }
				: o;
	const outcome = (o: OutcomeModel): OutcomeModel =>
		o.kind === "retry" ? { ...o, target: at(o.target), exhausted: o.exhausted && final(o.exhausted) } : final(o);
	for (const [s, c] of copies) {
		c.rules.push(...s.rules.map((r) => ({ ...r, outcome: outcome(r.outcome) })));
		if (c.kind === "command" && c.command.payload?.source) {
			const command: CommandModel = { ...c.command, payload: { ...c.command.payload, source: at(c.command.payload.source) as typeof c.command.payload.source } };
			(c as { command: CommandModel }).command = command;
		}
	}
	const notDone: ConditionModel = {
		fact: { kind: "context", field: initDone, domain: [0, 1] },
		allowed: [[0, 0]],
		written: [{ value: 0 }],
		negated: false,
		implied: false,
	};
	const set: AssignmentModel[] = [{ field: initDone, value: { kind: "const", value: 1 } }];
	const start: StateModel = {
		kind: "decision",
		key: fresh("start", m.states.map((s) => s.key)),
		doc: "The path's first check runs the init first (the target calls init with fd -1, where it cannot send commands).",
		loc,
		rules: [
			{ index: 0, doc: "The first check: the init states, then the check.", loc, conditions: [notDone], outcome: { kind: "goto", target: at(init.initial), assignments: set }, terminal: true },
			{ index: 1, loc, conditions: [], outcome: { kind: "goto", target: m.initial, assignments: [] }, terminal: true },
		],
	};
	return finish(m, [start, ...m.states.map(at)], start, [...m.context, initDone]);
}
