// Turns an evaluated checker spec into the validated CheckerModel, or
// rejects it with every problem found, each located in the spec source.
// The spec's TypeScript types already catch most mistakes in the editor;
// everything is checked again here because types can be bypassed. The
// parts: declarations, commands, decoders, facts, outcomes, rules, graph.
import { ABI_015_DETAILS, abiProfile, type AbiProfile } from "../abi/profiles.ts";
import { SENSE_BUFFER_LENGTH } from "../spec/vocabulary.ts";
import type { CheckerSpec } from "../spec/checker.ts";
import { buildBudgets, buildContext, buildMessages } from "./checker-declarations.ts";
import { buildCommand, checkPayloadSources, checkTransportFacts, resolvePayloadSources } from "./checker-commands.ts";
import { buildDecoderUse, buildSpecDecoders } from "./checker-decoders.ts";
import { fieldsUsed } from "./fields-used.ts";
import { checkGraph, reachable } from "./checker-graph.ts";
import { buildRules } from "./checker-rules.ts";
import type { CheckerScope, StateUnderConstruction } from "./checker-scope.ts";
import { CHECKER_NAME, isRecord, SpecInput } from "./input.ts";
import type { SourceIndex } from "./source-index.ts";
import type { CheckerModel, DecoderModel, DecoderUseModel, InitModel, StateModel } from "./types.ts";

/** The longest checker name multipathd stores (char name[16]). */
export const MAX_CHECKER_NAME = ABI_015_DETAILS.checkerNameLength - 1;


const CHECKER_KEYS = ["kind", "name", "description", "copyright", "targets", "messages", "retryBudgets", "context", "decoders", "initial", "init", "states"];

function checkHeader(input: SpecInput, spec: CheckerSpec): AbiProfile[] {
	input.onlyKeys(spec as unknown as Record<string, unknown>, CHECKER_KEYS, [], "checker property");
	if (typeof spec.name !== "string" || !CHECKER_NAME.test(spec.name)) {
		input.error(["name"], `checker name ${JSON.stringify(spec.name)} must be lower-case letters, digits and '_', starting with a letter`);
	} else if (spec.name.length > MAX_CHECKER_NAME) {
		input.error(["name"], `checker name '${spec.name}' is ${spec.name.length} characters; multipathd keeps at most ${MAX_CHECKER_NAME}`);
	}
	if (typeof spec.description !== "string" || spec.description.trim() === "" || spec.description.includes("\n")) {
		input.error(["description"], "description must be one non-empty line");
	}
	if (typeof spec.copyright !== "string" || spec.copyright.trim() === "") {
		input.error(["copyright"], "copyright must name the year and holder, e.g. \"2026 The mpcheckgen authors\"");
	}
	const profiles: AbiProfile[] = [];
	if (!Array.isArray(spec.targets) || spec.targets.length === 0) input.error(["targets"], "targets must list at least one ABI, e.g. [\"0.15\"]");
	else {
		for (const [i, t] of spec.targets.entries()) {
			const p = abiProfile(t);
			if (!p) input.error(["targets", i], `unknown ABI target ${JSON.stringify(t)}`);
			else profiles.push(p);
		}
	}
	return profiles;
}

/** The state without its rules: its kind, command and decoder. */
function declareState(cx: CheckerScope, key: string, raw: unknown): StateUnderConstruction | undefined {
	const { input } = cx;
	const path = ["states", key];
	if (!isRecord(raw)) {
		input.error(path, `state '${key}' must be an object with command and rules, or decide`);
		return undefined;
	}
	const base = { key, loc: input.locate(path), doc: input.doc(path, raw.doc), rules: [] };
	if ("decide" in raw) {
		input.onlyKeys(raw, ["decide", "doc"], path, "decision state property");
		return { ...base, kind: "decision" };
	}
	input.onlyKeys(raw, ["command", "decoder", "decoderInputs", "store", "rules", "doc"], path, "state property");
	const command = buildCommand(cx, raw.command, [...path, "command"]);
	let decoder: DecoderUseModel | null = null;
	if (raw.decoder !== undefined) {
		decoder = buildDecoderUse(cx, raw, path) ?? null;
		if (!decoder) return undefined;
		if (command && command.direction !== "fromDevice") {
			input.error([...path, "decoder"], "a decoder needs a command that reads data from the device");
		} else if (command && command.maxDataLength < decoder.decoder.minDataLength) {
			// found by the spec fuzzer: a 1-byte buffer made gcc -Warray-bounds fail
			input.error(
				[...path, "command"],
				`decoder ${decoder.decoder.name} needs a data length of at least ${decoder.decoder.minDataLength} bytes, the shortest answer it can find anything in; this command's is at most ${command.maxDataLength}`,
			);
		}
	} else if (raw.decoderInputs !== undefined || raw.store !== undefined) {
		input.error(path, "decoderInputs and store need a decoder");
	}
	if (!command) return undefined;
	return { ...base, kind: "command", command, decoder };
}

/** The spec's `init`, checked on its own: its initial state and withoutInitIo. */
function declareInit(cx: CheckerScope, declared: ReadonlySet<string>): { initial: string; withoutInitIo: "atFirstCheck" | "skip" | null; doc?: string } | undefined {
	const { input, spec } = cx;
	const raw = spec.init as unknown;
	if (raw === undefined) return undefined;
	if (!isRecord(raw)) {
		input.error(["init"], 'init is { initial: STATE, withoutInitIo?: "atFirstCheck" | "skip" }');
		return undefined;
	}
	input.onlyKeys(raw, ["initial", "withoutInitIo", "doc"], ["init"], "init property");
	if (typeof raw.initial !== "string" || !declared.has(raw.initial)) {
		input.error(["init", "initial"], `the init's initial state ${JSON.stringify(raw.initial)} is not a declared state`);
		return undefined;
	}
	const w = raw.withoutInitIo;
	if (w !== undefined && w !== "atFirstCheck" && w !== "skip") {
		input.error(["init", "withoutInitIo"], `withoutInitIo is "atFirstCheck" or "skip", not ${JSON.stringify(w)}`);
		return undefined;
	}
	const withoutInitIo = w ?? null;
	for (const p of cx.profiles) {
		if (!p.initIo && withoutInitIo === null) {
			input.error(
				["init"],
				`target ${p.id} calls the checker's init with fd -1, so its init states cannot send commands there: say what it does instead, withoutInitIo: "atFirstCheck" (run them at the path's first check) or "skip"`,
			);
		}
	}
	return { initial: raw.initial, withoutInitIo, doc: input.doc(["init"], raw.doc) };
}

/**
 * The init states and the check's: no state is both, an init never
 * reports a path state, a check never ends with done; returns the init.
 */
function checkPhases(
	cx: CheckerScope,
	states: readonly StateModel[],
	initial: StateModel,
	initInitial: StateModel | undefined,
	raw: { withoutInitIo: "atFirstCheck" | "skip" | null; doc?: string } | undefined,
): InitModel | null {
	const { input } = cx;
	const checkStates = reachable(initial);
	const initStates = initInitial ? reachable(initInitial) : new Set<StateModel>();
	for (const s of states) {
		const inInit = initStates.has(s);
		if (inInit && checkStates.has(s)) {
			input.error(["states", s.key], `state '${s.key}' is reached both by the init (from '${initInitial!.key}') and by the check (from '${initial.key}'): give each its own states`);
			continue;
		}
		const path = ["states", s.key, s.kind === "decision" ? "decide" : "rules"];
		// 0.9's libcheck_init runs before the map's context exists (libcheck_mp_init)
		const mapField = inInit ? [...fieldsUsed(s)].find((f) => f.scope.kind === "map") : undefined;
		if (mapField) {
			input.error(["states", s.key], `state '${s.key}' belongs to the init and uses the map context field '${mapField.key}': an init has the path's context only (multipathd sets up the map's after the path's checker)`);
		}
		for (const r of s.rules) {
			const o = r.outcome;
			const f = o.kind === "retry" ? o.exhausted : o;
			if (!f) continue;
			const at = o.kind === "retry" ? [...path, r.index, "then", "whenExhausted"] : [...path, r.index, "then"];
			if (f.kind === "done" && !inInit) input.error(at, `rule ${r.index + 1} of state '${s.key}' ends an init, but the state belongs to the check: a check ends with a report`);
			if (f.kind === "report" && inInit) input.error(at, `rule ${r.index + 1} of state '${s.key}' reports a path state, but the state belongs to the init, which reports none: end it with { done: true }`);
		}
	}
	// a budget is counted per run: on a target that runs the init at the
	// first check, init and check would draw from one count
	const phaseOf = new Map<string, string>();
	for (const s of states) {
		const phase = initStates.has(s) ? "init" : "check";
		for (const r of s.rules) {
			if (r.outcome.kind !== "retry") continue;
			const b = r.outcome.budget.key;
			const other = phaseOf.get(b);
			if (other && other !== phase) {
				input.error(
					["states", s.key, s.kind === "decision" ? "decide" : "rules", r.index, "then", "retry"],
					`retry budget '${b}' is drawn from by both the init and the check: give the init a budget of its own (where the init runs at the first check, they would share one count)`,
				);
			} else phaseOf.set(b, phase);
		}
	}
	if (!initInitial || !raw) return null;
	return {
		initial: initInitial,
		states: states.filter((s) => initStates.has(s)),
		withoutInitIo: raw.withoutInitIo,
		doc: raw.doc,
		loc: input.locate(["init"]),
	};
}

/** Builds and validates a checker model; throws SpecError listing every problem. */
export function buildCheckerModel(spec: CheckerSpec, index: SourceIndex): CheckerModel {
	const input = new SpecInput(index);
	const profiles = checkHeader(input, spec);
	if (input.failed || profiles.length === 0) input.throwIfFailed();
	const cx: CheckerScope = {
		input,
		spec,
		profiles,
		messages: new Map(),
		budgets: new Map(),
		context: new Map(),
		decoders: new Map(),
		states: new Map(),
		used: { messages: new Set(), budgets: new Set(), fields: new Set() },
	};
	buildMessages(cx);
	buildBudgets(cx);
	buildContext(cx);
	buildSpecDecoders(cx);
	if (!isRecord(spec.states) || Object.keys(spec.states).length === 0) {
		input.error(["states"], "states must declare at least one state");
		input.throwIfFailed();
	}
	const keys = Object.keys(spec.states).filter((k) => input.identifier(k, ["states", k], "state"));
	const declared = new Set(keys);
	for (const key of keys) {
		const s = declareState(cx, key, spec.states[key]);
		if (s) cx.states.set(key, s);
	}
	const initial = cx.states.get(spec.initial);
	if (!declared.has(spec.initial)) input.error(["initial"], `initial state ${JSON.stringify(spec.initial)} is not a declared state`);
	for (const s of cx.states.values()) {
		const raw = spec.states[s.key] as unknown as Record<string, unknown>;
		const decoder = s.kind === "command" ? s.decoder?.decoder : undefined;
		const path = ["states", s.key, s.kind === "decision" ? "decide" : "rules"];
		s.rules.push(...buildRules(cx, s.kind === "decision" ? raw.decide : raw.rules, path, s, decoder));
	}
	const states: StateModel[] = [...cx.states.values()];
	const initRaw = declareInit(cx, declared);
	const initInitial = initRaw ? cx.states.get(initRaw.initial) : undefined;
	resolvePayloadSources(cx, states);
	if (!input.failed && initial) checkGraph(input, states, initial, initInitial);
	let init: InitModel | null = null;
	if (!input.failed && initial && initRaw && initInitial) init = checkPhases(cx, states, initial, initInitial, initRaw);
	else if (!input.failed && initial) checkPhases(cx, states, initial, undefined, undefined);
	if (!input.failed && initial) checkPayloadSources(cx, states, initInitial ? [initial, initInitial] : [initial]);
	if (!input.failed) checkTransportFacts(cx, states);
	if (!input.failed) {
		// warnings: the C keeps an unused message (its id stays) and field, and leaves out an unused budget
		for (const m of cx.messages.values()) {
			if (!cx.used.messages.has(m.key)) input.warn(["messages", m.key], `message '${m.key}' is never reported`);
		}
		for (const k of cx.budgets.keys()) {
			if (!cx.used.budgets.has(k)) input.warn(["retryBudgets", k], `retry budget '${k}' is never used`);
		}
		for (const k of cx.context.keys()) {
			if (!cx.used.fields.has(k)) input.warn(["context", k], `context field '${k}' is never read or written`);
		}
	}
	input.throwIfFailed();
	const decoders: DecoderModel[] = [];
	for (const s of states) if (s.kind === "command" && s.decoder && !decoders.includes(s.decoder.decoder)) decoders.push(s.decoder.decoder);
	return {
		kind: "checker",
		name: spec.name,
		description: spec.description.trim(),
		copyright: spec.copyright.trim(),
		specFile: index.file,
		loc: index.root,
		targets: profiles.map((p) => p.id),
		messages: [...cx.messages.values()],
		budgets: [...cx.budgets.values()].filter((b) => cx.used.budgets.has(b.key)),
		context: [...cx.context.values()],
		states,
		initial: initial!,
		init,
		maxDataLength: Math.max(0, ...states.map((s) => (s.kind === "command" ? s.command.maxDataLength : 0))),
		decoders,
		senseLength: SENSE_BUFFER_LENGTH,
		warnings: input.warnings,
	};
}
