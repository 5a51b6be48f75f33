// The spec language, as spec authors import it.
export { defineChecker } from "./checker.ts";
export type {
	AnswerPredicate,
	CheckerSpec,
	ContextFieldSpec,
	MessageSpec,
	Outcome,
	RetryBudgetSpec,
	Rule,
	SenseCode,
} from "./checker.ts";
export {
	directRead,
	inquiry,
	inquiryVpd,
	modeSelect10,
	modeSense10,
	overCciss,
	read10,
	read16,
	readCapacity10,
	readCapacity16,
	reportTargetPortGroups,
	testUnitReady,
} from "./commands.ts";
export type { CdbByteSpec, CommandSpec, ContextByteSpec, LengthSpec, PageControl, PayloadByteSpec, PayloadSpec, Transport } from "./commands.ts";
export { DECODERS, defineDecoder, rtpgTargetPortGroup, vpd83TargetPortGroup } from "./decoders.ts";
export type { DecoderExpr, DecoderInfo, DecoderName, DecoderStep } from "./decoders.ts";
export { defineRunner } from "./runner.ts";
export type { RunnerSpec } from "./runner.ts";
