// The transports other than SG_IO in C: a static helper per transport the
// checker uses, filling the same struct sg_answer as sg_send() (so that the
// rules read every transport alike), the call of a state's command, the
// aligned data buffer an O_DIRECT read needs, and the headers.
import { DIRECT_READ_ALIGN } from "../model/checker-commands.ts";
import type { CheckerModel, CommandModel, TransportModel } from "../model/types.ts";
import type { CItem, CStmt } from "./c-ir.ts";
import type { CheckerNames } from "./checker-names.ts";

export function transportsOf(m: CheckerModel): Set<TransportModel> {
	return new Set(m.states.flatMap((s) => (s.kind === "command" ? [s.command.transport] : [])));
}

/** The helpers' C names, claimed once per file. */
const claimed = new WeakMap<CheckerNames, { cciss: string; direct: string }>();
function names(n: CheckerNames): { cciss: string; direct: string } {
	let c = claimed.get(n);
	if (!c) {
		const t = transportsOf(n.m);
		c = {
			cciss: t.has("cciss") ? n.t.ordinary.claim("cciss_send", { what: "the cciss passthrough helper" }) : "cciss_send",
			direct: t.has("directRead") ? n.t.ordinary.claim("direct_read", { what: "the O_DIRECT read helper" }) : "direct_read",
		};
		claimed.set(n, c);
	}
	return c;
}

const CCISS_XFER = { none: "XFER_NONE", fromDevice: "XFER_READ", toDevice: "XFER_WRITE" } as const;

/** The call that sends a state's command over its transport (SG_IO is the caller's). */
export function transportCall(n: CheckerNames, cmd: CommandModel, io: { fd: string; buf: string }, len: string): string | undefined {
	const buf = cmd.direction === "none" ? "NULL" : io.buf;
	if (cmd.transport === "cciss") return `${names(n).cciss}(${io.fd}, cdb, sizeof(cdb), ${CCISS_XFER[cmd.direction]}, ${buf}, ${len}, &ans)`;
	if (cmd.transport === "directRead") return `${names(n).direct}(${io.fd}, ${io.buf}, ${len}, ${cmd.offset}, &ans)`;
	return undefined;
}

/** The statement that allocates the data buffer into `target`: aligned for an O_DIRECT read. */
export function allocBuffer(n: CheckerNames, target: string): CStmt {
	if (!transportsOf(n.m).has("directRead")) return { kind: "expr", text: `${target} = malloc(${n.bufLen})` };
	return {
		kind: "if",
		cond: [`posix_memalign((void **)&${target}, ${DIRECT_READ_ALIGN}, ${n.bufLen})`],
		then: [{ kind: "expr", text: `${target} = NULL` }],
	};
}

const failed = (what: string): CStmt => ({
	kind: "if",
	cond: [what],
	then: [
		{ kind: "expr", text: "ans->err = errno ? errno : EIO" },
		{ kind: "return" },
	],
});

export function transportItems(n: CheckerNames): CItem[] {
	const t = transportsOf(n.m);
	const items: CItem[] = [];
	if (t.has("cciss")) {
		items.push({
			kind: "function",
			doc:
				"Sends one command to the logical volume fd is, through the cciss passthrough (CCISS_GETLUNINFO, then CCISS_PASSTHRU, without a timeout), and fills *ans as sg_send() does: the SCSI status, the command status as the host status, SG_INFO_CHECK in info when either is not 0; no sense.",
			isStatic: true,
			returns: "void",
			name: names(n).cciss,
			params: ["int fd", "unsigned char *cdb", "unsigned char cdb_len", "int direction", "unsigned char *buf", "unsigned int len", "struct sg_answer *ans"],
			body: [
				{ kind: "decl", decl: "LogvolInfo_struct lvi" },
				{ kind: "decl", decl: "IOCTL_Command_struct cic" },
				{ kind: "blank" },
				{ kind: "expr", text: "memset(ans, 0, sizeof(*ans))" },
				{ kind: "expr", text: "memset(&lvi, 0, sizeof(lvi))" },
				{ kind: "expr", text: "memset(&cic, 0, sizeof(cic))" },
				failed("ioctl(fd, CCISS_GETLUNINFO, &lvi) < 0"),
				{ kind: "expr", text: "cic.LUN_info.LogDev.VolId = lvi.LunID & 0x3fffffff" },
				{ kind: "expr", text: "cic.LUN_info.LogDev.Mode = 0x1" },
				{ kind: "expr", text: "cic.Request.CDBLen = cdb_len" },
				{ kind: "expr", text: "cic.Request.Type.Type = TYPE_CMD" },
				{ kind: "expr", text: "cic.Request.Type.Attribute = ATTR_SIMPLE" },
				{ kind: "expr", text: "cic.Request.Type.Direction = direction" },
				{ kind: "expr", text: "cic.Request.Timeout = 0" },
				{ kind: "expr", text: "memcpy(cic.Request.CDB, cdb, cdb_len)" },
				{ kind: "expr", text: "cic.buf_size = len" },
				{ kind: "expr", text: "cic.buf = buf" },
				failed("ioctl(fd, CCISS_PASSTHRU, &cic) < 0"),
				{ kind: "expr", text: "ans->status = cic.error_info.ScsiStatus" },
				{ kind: "expr", text: "ans->host_status = cic.error_info.CommandStatus" },
				{
					kind: "if",
					cond: ["cic.error_info.ScsiStatus | cic.error_info.CommandStatus"],
					then: [{ kind: "expr", text: "ans->info = SG_INFO_CHECK" }],
				},
				{
					kind: "if",
					cond: ["cic.error_info.ResidualCnt < len"],
					then: [{ kind: "expr", text: "ans->transferred = len - cic.error_info.ResidualCnt" }],
				},
			],
		});
	}
	if (t.has("directRead")) {
		items.push({
			kind: "function",
			doc:
				"Reads len bytes at offset from fd with O_DIRECT (set on fd if it is not; buf is aligned for it) and fills *ans: the errno of a failed read, or the bytes read, and SG_INFO_CHECK in info when fewer than len came.",
			isStatic: true,
			returns: "void",
			name: names(n).direct,
			params: ["int fd", "unsigned char *buf", "unsigned int len", "off_t offset", "struct sg_answer *ans"],
			body: [
				{ kind: "decl", decl: "ssize_t ret" },
				{ kind: "decl", decl: "int flags" },
				{ kind: "blank" },
				{ kind: "expr", text: "memset(ans, 0, sizeof(*ans))" },
				{ kind: "expr", text: "flags = fcntl(fd, F_GETFL)" },
				failed("flags < 0"),
				failed("!(flags & O_DIRECT) && fcntl(fd, F_SETFL, flags | O_DIRECT) < 0"),
				{ kind: "expr", text: "ret = pread(fd, buf, len, offset)" },
				failed("ret < 0"),
				{ kind: "expr", text: "ans->transferred = ret" },
				{ kind: "if", cond: ["(size_t)ret != len"], then: [{ kind: "expr", text: "ans->info = SG_INFO_CHECK" }] },
			],
		});
	}
	return items;
}
