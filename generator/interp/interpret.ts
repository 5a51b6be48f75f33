// The executable semantics of the checker spec language: runs one check of a
// validated model against simulated SG_IO answers. The tests use it as the
// oracle for the generated C: both must reach the same path state, message
// and context, sending the same commands.
import { contains } from "../model/intervals.ts";
import type {
	AssignmentModel,
	CheckerModel,
	CommandModel,
	ConditionModel,
	FinalOutcomeModel,
	StateModel,
} from "../model/types.ts";
import { runDecoder, type Decoded, type FieldValue } from "./decode.ts";

export type { FieldValue } from "./decode.ts";
/** A path's context: each field's value (a bytes field: its bytes). */
export type ContextValues = Record<string, FieldValue>;

/** One SG_IO answer, as the simulated device gives it. */
export interface SimAnswer {
	/** errno of a failed ioctl (0 or absent: the ioctl succeeded). */
	errno?: number;
	status?: number;
	hostStatus?: number;
	driverStatus?: number;
	info?: number;
	/** Residual count; absent: dxfer_len minus the data copied. */
	resid?: number;
	/** The sense bytes the device returned (at most mx_sb_len are copied). */
	sense?: number[];
	/** sb_len_wr as reported; absent: sense.length. */
	sbLenWr?: number;
	/** The data the device returned (at most dxfer_len are copied). */
	data?: number[];
}

export interface CommandSent {
	cdb: number[];
	direction: number;
	length: number;
	timeoutMs: number;
	/** The bytes a toDevice command sends. */
	dataOut?: number[];
	/** Absent: SG_IO. */
	transport?: "cciss" | "directRead";
	/** directRead: the byte offset read from. */
	offset?: number;
}

export interface Step {
	state: string;
	/** The rule that matched (index), or -1 for a decision with no match. */
	rule: number;
	/** "retry" when a retry rule's budget was used; "done" ends an init. */
	action: "report" | "goto" | "retry" | "exhausted" | "done";
}

export interface CheckResult {
	pathState: number;
	pathStateName: string;
	msgid: number;
	commands: CommandSent[];
	/** The path's context after the check. */
	context: ContextValues;
	/** The map's context after the check (the fields of scope "map"). */
	map: Record<string, number>;
	steps: Step[];
}

/** Where the check is when it sends a command. */
export interface AnswerAt {
	state: StateModel;
	/** The context (the path's and the map's fields) as it is when the command is sent. */
	ctx: ContextValues;
}

/** The path context libcheck_async_init sets up. */
export function initialContext(m: CheckerModel): ContextValues {
	return Object.fromEntries(
		m.context.filter((f) => f.scope.kind === "path").map((f) => [f.key, f.type === "bytes" ? new Array<number>(f.length).fill(0) : f.init]),
	);
}

/** The map context of a map no check has set yet: its fields' initial values. */
export function initialMapContext(m: CheckerModel): Record<string, number> {
	return Object.fromEntries(m.context.filter((f) => f.scope.kind === "map").map((f) => [f.key, f.init]));
}

/** The map context as the C keeps it: its fields packed into one long (-1: none set yet, the fields' initial values). */
export function packedMapContext(m: CheckerModel, map: Record<string, number>): number {
	let v = 0;
	for (const f of m.context) if (f.scope.kind === "map") v += map[f.key] * 2 ** f.scope.shift;
	return v;
}

/** The facts of one answer, as the generated C computes them. */
export interface AnswerFacts {
	errno: number;
	status: number;
	sgInfo: number;
	hostStatus: number;
	driverStatus: number;
	senseKey: number;
	senseCode: number;
	/** Bytes of the data buffer the checker may read. */
	transferred: number;
	buffer: Uint8Array;
}

/** decode_sense() of the generated C: descriptor or fixed format, within sb_len_wr. */
export function senseFacts(sense: number[], sbLenWr: number, senseLength: number): { key: number; asc: number; ascq: number } {
	const sb = new Uint8Array(senseLength);
	sb.set(sense.slice(0, senseLength));
	const len = Math.min(sbLenWr, senseLength);
	if (len <= 3) return { key: 0, asc: 0, ascq: 0 };
	if (sb[0] === 0x72 || sb[0] === 0x73) return { key: sb[1] & 0x0f, asc: sb[2], ascq: sb[3] };
	if (len > 13 && ((sb[0] & 0x7f) === 0x70 || (sb[0] & 0x7f) === 0x71)) {
		return { key: sb[2] & 0x0f, asc: sb[12], ascq: sb[13] };
	}
	return { key: 0, asc: 0, ascq: 0 };
}

/**
 * The facts of an answer over a transport other than SG_IO (the simulated
 * device's answers serve every transport, native-tests/host/sgsim.c): over
 * cciss, the status is the SCSI status and the host status the command
 * status, sgInfo is "check" when either is not 0, and there is no sense;
 * over an O_DIRECT read, the read returns the length less resid, or (no
 * resid) nothing when info says check, else everything, and sgInfo is
 * "check" for a short read.
 */
export function transportFacts(a: SimAnswer, length: number, transport: "cciss" | "directRead"): AnswerFacts {
	const buffer = new Uint8Array(length);
	const none = { status: 0, sgInfo: 0, hostStatus: 0, driverStatus: 0, senseKey: 0, senseCode: 0 };
	if (a.errno) return { errno: a.errno, ...none, transferred: 0, buffer };
	const data = a.data ?? [];
	if (transport === "directRead") {
		const n = a.resid !== undefined ? (a.resid <= 0 ? length : a.resid < length ? length - a.resid : 0) : (a.info ?? 0) & 1 ? 0 : length;
		buffer.set(data.slice(0, Math.min(data.length, n)));
		return { errno: 0, ...none, sgInfo: n === length ? 0 : 1, transferred: n, buffer };
	}
	const copied = Math.min(data.length, length);
	buffer.set(data.slice(0, copied));
	const resid = Math.max(0, a.resid ?? length - copied);
	const transferred = Math.max(0, length - resid);
	const status = a.status ?? 0;
	const commandStatus = a.hostStatus ?? 0;
	return { errno: 0, ...none, status: status & 0x7e, sgInfo: status || commandStatus ? 1 : 0, hostStatus: commandStatus, transferred, buffer };
}

export function answerFacts(a: SimAnswer, length: number, senseLength: number): AnswerFacts {
	const buffer = new Uint8Array(length);
	const data = a.data ?? [];
	const copied = Math.min(data.length, length);
	buffer.set(data.slice(0, copied));
	if (a.errno) {
		return { errno: a.errno, status: 0, sgInfo: 0, hostStatus: 0, driverStatus: 0, senseKey: 0, senseCode: 0, transferred: 0, buffer };
	}
	const resid = a.resid ?? length - copied;
	const transferred = resid <= 0 ? length : resid < length ? length - resid : 0;
	const sense = senseFacts(a.sense ?? [], a.sbLenWr ?? (a.sense ?? []).length, senseLength);
	return {
		errno: 0,
		status: (a.status ?? 0) & 0x7e,
		sgInfo: (a.info ?? 0) & 1,
		hostStatus: a.hostStatus ?? 0,
		driverStatus: (a.driverStatus ?? 0) & 0xffff,
		senseKey: sense.key,
		senseCode: (sense.asc << 8) | sense.ascq,
		transferred,
		buffer,
	};
}

/** A numeric field's value (the model never lets a bytes field be used as a number). */
function num(v: FieldValue | undefined): number {
	if (typeof v !== "number") throw new Error("a bytes value used as a number (the model prevents this)");
	return v;
}

function commandBytes(cmd: CommandModel, ctx: ContextValues): { cdb: number[]; length: number } {
	const length = cmd.dataLength.kind === "const" ? cmd.dataLength.value : num(ctx[cmd.dataLength.field.key]);
	const cdb = cmd.cdb.map((b) => {
		if (b.kind === "const") return b.value;
		if (b.kind === "context") return ctx[b.field.key] ? b.ifSet : b.ifClear;
		if (b.kind === "contextByte") return (num(ctx[b.field.key]) >>> b.shift) & 0xff;
		return (length >>> b.shift) & 0xff;
	});
	return { cdb, length };
}

/**
 * Fills the check's data buffer before a command, as the generated C does:
 * a payload over zeros or over the bytes read earlier; zeros under a read
 * in a checker that sends data read earlier.
 */
function fillBuffer(m: CheckerModel, cmd: CommandModel, buffer: Uint8Array, length: number, ctx: ContextValues, kept: boolean): number[] | undefined {
	if (cmd.direction === "fromDevice") {
		if (kept || m.states.some((s) => s.kind === "command" && s.command.payload?.from === "dataReadEarlier")) buffer.fill(0, 0, length);
		return undefined;
	}
	const p = cmd.payload;
	if (!p) return undefined;
	if (p.from === "zeros") buffer.fill(0, 0, length);
	for (const { offset, value: v } of p.bytes) {
		if (v.kind === "const") buffer[offset] = v.value;
		else if (v.kind === "contextByte") buffer[offset] = (num(ctx[v.field.key]) >>> v.shift) & 0xff;
		else buffer[offset] = (buffer[offset] & v.and) | v.or;
	}
	return [...buffer.subarray(0, length)];
}

function holds(c: ConditionModel, facts: AnswerFacts | undefined, ctx: ContextValues, d: Decoded | undefined, outcomeIndex: number): boolean {
	let v: number;
	switch (c.fact.kind) {
		case "context":
			v = num(ctx[c.fact.field.key]);
			break;
		case "dataOutcome":
			v = outcomeIndex;
			break;
		case "dataField":
			if (!d || !(c.fact.field.key in d.fields)) return false;
			v = num(d.fields[c.fact.field.key]);
			break;
		default:
			if (!facts) return false;
			v = facts[c.fact.kind];
	}
	return contains(c.allowed, v);
}

/** The generated C runs the assignments in order, each reading the current context. */
function assignInOrder(assignments: readonly AssignmentModel[], ctx: ContextValues, d: Decoded | undefined): void {
	for (const a of assignments) {
		// a bytes field is copied whole (memcpy): a new array, never shared
		if (a.value.kind === "contextBytes" || a.value.kind === "dataBytes") {
			const src = a.value.kind === "contextBytes" ? ctx[a.value.field.key] : d!.fields[a.value.field.key];
			if (typeof src === "number") throw new Error("a number stored into a bytes field (the model prevents this)");
			ctx[a.field.key] = [...src];
			continue;
		}
		let v: number;
		if (a.value.kind === "const") v = a.value.value;
		else if (a.value.kind === "context") v = num(ctx[a.value.field.key]);
		else v = num(d!.fields[a.value.field.key]);
		ctx[a.field.key] = a.field.type === "bool" ? (v ? 1 : 0) : Math.min(v, a.field.max);
	}
}

export const MAX_STEPS = 10_000;

/**
 * Runs one check. `answer` gives the device's answer to each command in
 * turn; `ctxIn` is the path's context before the check (default: after
 * init), `mapIn` the map's (default: a map no check has set).
 */
export function interpretCheck(
	m: CheckerModel,
	answer: (cmd: CommandSent, index: number, at: AnswerAt) => SimAnswer,
	ctxIn?: ContextValues,
	timeoutSeconds = 30,
	mapIn?: Record<string, number>,
): CheckResult {
	return run(m, m.initial, answer, ctxIn, timeoutSeconds, mapIn);
}

/**
 * Runs the init states of a model whose target's init can do I/O (as
 * libcheck_init does after setting up the context): the commands sent and
 * the context after it; the path state of the result is -1 (an init reports
 * none). A model without init states sends nothing.
 */
export function interpretInit(
	m: CheckerModel,
	answer: (cmd: CommandSent, index: number, at: AnswerAt) => SimAnswer,
	timeoutSeconds = 30,
): CheckResult {
	if (!m.init) return { pathState: -1, pathStateName: "", msgid: 0, commands: [], context: initialContext(m), map: initialMapContext(m), steps: [] };
	return run(m, m.init.initial, answer, undefined, timeoutSeconds, undefined);
}

function run(
	m: CheckerModel,
	start: StateModel,
	answer: (cmd: CommandSent, index: number, at: AnswerAt) => SimAnswer,
	ctxIn: ContextValues | undefined,
	timeoutSeconds: number,
	mapIn: Record<string, number> | undefined,
): CheckResult {
	const timeoutMs = Math.min(timeoutSeconds * 1000, 0xffffffff);
	// the path's and the map's fields in one record (their keys are distinct)
	const ctx = { ...(ctxIn ?? initialContext(m)), ...(mapIn ?? initialMapContext(m)) };
	const split = (kind: "path" | "map") =>
		Object.fromEntries(m.context.filter((f) => f.scope.kind === kind).map((f) => [f.key, ctx[f.key]]));
	const budgets = new Map(m.budgets.map((b) => [b.key, 0]));
	const commands: CommandSent[] = [];
	const steps: Step[] = [];
	let state: StateModel = start;
	// the one data buffer of every command of the check
	const buffer = new Uint8Array(m.maxDataLength);
	// the buffers of the states whose data a later payload sends
	const kept = new Map<StateModel, Uint8Array>();
	for (const s of m.states) {
		const src = s.kind === "command" ? s.command.payload?.source : undefined;
		if (src && !kept.has(src)) kept.set(src, new Uint8Array(src.command.maxDataLength));
	}
	// map fields are numbers (a bytes field is the path's own)
	const result = (r: Omit<CheckResult, "context" | "map">): CheckResult => ({ ...r, context: split("path"), map: split("map") as Record<string, number> });
	const finish = (o: FinalOutcomeModel, d: Decoded | undefined): CheckResult | StateModel => {
		assignInOrder(o.assignments, ctx, d);
		if (o.kind === "goto") return o.target;
		if (o.kind === "done") return result({ pathState: -1, pathStateName: "", msgid: 0, commands, steps });
		const v = o.messageValue;
		const offset = v === undefined ? 0 : v.kind === "const" ? v.value : v.kind === "context" ? num(ctx[v.field.key]) : v.kind === "data" ? num(d!.fields[v.field.key]) : 0;
		return result({ pathState: o.pathState.value, pathStateName: o.pathState.name, msgid: o.message.id + offset, commands, steps });
	};
	for (let n = 0; n < MAX_STEPS; n++) {
		let facts: AnswerFacts | undefined;
		let decoded: Decoded | undefined;
		let outcomeIndex = -1;
		if (state.kind === "command") {
			const { cdb, length } = commandBytes(state.command, ctx);
			const own = kept.get(state);
			const source = state.command.payload?.source;
			const buf = own ?? (source ? kept.get(source)! : buffer);
			const dataOut = fillBuffer(m, state.command, buf, length, ctx, own !== undefined);
			const t = state.command.transport;
			const sent: CommandSent = {
				cdb,
				direction: state.command.dxferValue,
				length,
				// the cciss passthrough is sent without a timeout, as upstream's cciss_tur; a read has none
				timeoutMs: t === "sgio" ? timeoutMs : 0,
				...(dataOut ? { dataOut } : {}),
				...(t !== "sgio" ? { transport: t } : {}),
				...(t === "directRead" ? { offset: state.command.offset } : {}),
			};
			commands.push(sent);
			const a = answer(sent, commands.length - 1, { state, ctx: { ...ctx } });
			facts = t === "sgio" ? answerFacts(a, length, m.senseLength) : transportFacts(a, length, t);
			// a read leaves what it got in the buffer (the simulated kernel zeroes the rest of it)
			if (state.command.direction === "fromDevice" && facts.errno === 0) buf.set(facts.buffer.subarray(0, length));
			if (state.decoder) {
				outcomeIndex = state.decoder.decoder.outcomes.length;
				if (facts.errno === 0 && facts.sgInfo === 0) {
					const inputs = Object.fromEntries(state.decoder.inputs.map((i) => [i.key, ctx[i.field.key]]));
					decoded = runDecoder(state.decoder.decoder, facts.buffer, facts.transferred, inputs);
					outcomeIndex = state.decoder.decoder.outcomes.findIndex((o) => o.key === decoded!.outcome);
					for (const st of state.decoder.store) {
						if (st.outcome.key === decoded.outcome) assignInOrder(st.assignments, ctx, decoded);
					}
				}
			}
		}
		let next: CheckResult | StateModel | undefined;
		for (const rule of state.rules) {
			if (!rule.conditions.every((c) => holds(c, facts, ctx, decoded, outcomeIndex))) continue;
			const o = rule.outcome;
			if (o.kind === "retry") {
				const used = budgets.get(o.budget.key)!;
				if (used < o.budget.maxRetries) {
					budgets.set(o.budget.key, used + 1);
					assignInOrder(o.assignments, ctx, decoded);
					steps.push({ state: state.key, rule: rule.index, action: "retry" });
					next = o.target;
					break;
				}
				if (o.exhausted === null) {
					steps.push({ state: state.key, rule: rule.index, action: "exhausted" });
					continue;
				}
				steps.push({ state: state.key, rule: rule.index, action: "exhausted" });
				next = finish(o.exhausted, decoded);
				break;
			}
			steps.push({ state: state.key, rule: rule.index, action: o.kind });
			next = finish(o, decoded);
			break;
		}
		if (next === undefined) throw new Error(`state ${state.key}: no rule matched (the model guarantees a default rule)`);
		if (!("kind" in next)) return next;
		state = next;
	}
	throw new Error(`check did not end within ${MAX_STEPS} steps`);
}
