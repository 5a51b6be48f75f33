// A private apt configuration for Debian source and binary packages of one
// suite (bookworm), which never touches the machine's own apt setup: its own
// sources.list, lists and cache under <cache>/tree/apt-<suite>/, passed to
// every apt-get call with -o options. The mirror URI and the keyring are
// read at run time from the host's /etc/apt/sources.list.d/debian.sources;
// the suite is pinned whatever the host's own release is.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../vm/util.ts";
import { CommandError, progress, runChecked, type CommandResult } from "./exec.ts";

export const HOST_DEBIAN_SOURCES = "/etc/apt/sources.list.d/debian.sources";
export const HOST_SOURCES_LIST = "/etc/apt/sources.list";

/** The archive a private configuration points at. */
export interface DebianMirror {
	uri: string;
	/** keyring file for signed-by (an inline key is written to a file first) */
	signedBy: string;
	/** where the mirror was read from */
	from: string;
}

/** One deb822 stanza: field names lower-cased; multi-line values joined with "\n". */
export function parseDeb822(text: string): Record<string, string>[] {
	const stanzas: Record<string, string>[] = [];
	let cur: Record<string, string> = {};
	let last: string | undefined;
	for (const raw of text.split("\n")) {
		if (raw.startsWith("#")) continue;
		if (raw.trim() === "") {
			if (Object.keys(cur).length > 0) stanzas.push(cur);
			cur = {};
			last = undefined;
			continue;
		}
		if (/^\s/.test(raw)) {
			if (last === undefined) throw new Error(`continuation line without a field: ${JSON.stringify(raw)}`);
			const line = raw.trim();
			cur[last] = cur[last] === "" ? (line === "." ? "" : line) : `${cur[last]}\n${line === "." ? "" : line}`;
			continue;
		}
		const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
		if (!m) throw new Error(`not a deb822 field: ${JSON.stringify(raw)}`);
		last = m[1].toLowerCase();
		cur[last] = m[2].trim();
	}
	if (Object.keys(cur).length > 0) stanzas.push(cur);
	return stanzas;
}

const words = (v: string | undefined) => (v ?? "").split(/\s+/).filter(Boolean);
const isSecurity = (uri: string, suites: string[]) =>
	/security/.test(uri) || suites.every((s) => /-security$/.test(s));

/**
 * The main Debian archive named by a deb822 sources file: the first enabled
 * stanza with binary or source types, a non-security URI and the main
 * component. `keyDir` receives an inline Signed-By key.
 */
export function mirrorFromDeb822(text: string, from: string, keyDir: string): DebianMirror {
	for (const s of parseDeb822(text)) {
		if (s.enabled === "no") continue;
		const types = words(s.types);
		const uri = words(s.uris)[0];
		const suites = words(s.suites);
		if (!uri || !types.some((t) => t === "deb" || t === "deb-src")) continue;
		if (isSecurity(uri, suites) || !words(s.components).includes("main")) continue;
		return { uri, signedBy: keyringPath(s["signed-by"], keyDir), from };
	}
	throw new Error(`mpcheckgen tree: ${from} names no Debian main archive (a stanza with Types: deb, URIs, Components: main)`);
}

/** The main Debian archive named by one-line sources.list text ("deb [signed-by=K] URI SUITE main"). */
export function mirrorFromSourcesList(text: string, from: string, keyDir: string): DebianMirror {
	for (const line of text.split("\n")) {
		const m = /^\s*(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
		if (!m) continue;
		const [, , opts, uri, suite, comps] = m;
		if (isSecurity(uri, [suite]) || !words(comps).includes("main")) continue;
		const signed = /(?:^|\s)signed-by=(\S+)/.exec(opts ?? "")?.[1];
		return { uri, signedBy: keyringPath(signed, keyDir), from };
	}
	throw new Error(`mpcheckgen tree: ${from} names no Debian main archive`);
}

const DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

function keyringPath(signedBy: string | undefined, keyDir: string): string {
	if (!signedBy) return DEFAULT_KEYRING;
	if (signedBy.includes("BEGIN PGP PUBLIC KEY BLOCK")) {
		mkdirSync(keyDir, { recursive: true });
		const file = join(keyDir, "signed-by.asc");
		writeFileSync(file, signedBy.trim() + "\n");
		return file;
	}
	// several fingerprints or paths may be given; apt takes the first path
	const path = words(signedBy.replace(/,/g, " ")).find((w) => w.startsWith("/"));
	if (!path) throw new Error(`mpcheckgen tree: cannot use Signed-By ${JSON.stringify(signedBy)} (no keyring path)`);
	return path;
}

/** Reads the host's Debian archive: debian.sources, else the one-line sources.list. */
export function hostDebianMirror(keyDir: string): DebianMirror {
	if (existsSync(HOST_DEBIAN_SOURCES)) {
		return mirrorFromDeb822(readFileSync(HOST_DEBIAN_SOURCES, "utf8"), HOST_DEBIAN_SOURCES, keyDir);
	}
	if (existsSync(HOST_SOURCES_LIST)) {
		return mirrorFromSourcesList(readFileSync(HOST_SOURCES_LIST, "utf8"), HOST_SOURCES_LIST, keyDir);
	}
	throw new Error(`mpcheckgen tree: neither ${HOST_DEBIAN_SOURCES} nor ${HOST_SOURCES_LIST} exists; a Debian host is needed`);
}

/** The sources.list text of a private configuration: deb-src and deb lines for SUITE main. */
export function privateSourcesList(mirror: DebianMirror, suite: string): string {
	const opt = `[signed-by=${mirror.signedBy}]`;
	return (
		`# mpcheckgen private apt configuration (from ${mirror.from}), pinned to ${suite}\n` +
		`deb-src ${opt} ${mirror.uri} ${suite} main\n` +
		`deb ${opt} ${mirror.uri} ${suite} main\n`
	);
}

export interface PrivateApt {
	suite: string;
	dir: string;
	sourcesList: string;
	lists: string;
	cache: string;
	mirror: DebianMirror;
	/** the -o options every apt-get / apt-cache call gets */
	options: string[];
}

/** The -o options that make apt use only the given private files. */
export function privateAptOptions(sourcesList: string, lists: string, cache: string): string[] {
	return [
		"-o",
		`Dir::Etc::SourceList=${sourcesList}`,
		"-o",
		"Dir::Etc::SourceParts=/dev/null",
		"-o",
		`Dir::State::Lists=${lists}`,
		"-o",
		`Dir::Cache=${cache}`,
	];
}

/**
 * Sets up (idempotently) the private configuration for `suite` under the
 * cache. $MPCHECKGEN_DEBIAN_MIRROR replaces the host's archive URI (the
 * host's keyring is kept).
 */
export function privateApt(suite = "bookworm"): PrivateApt {
	if (!/^[a-z]+$/.test(suite)) throw new Error(`mpcheckgen tree: invalid suite ${JSON.stringify(suite)}`);
	const dir = join(cacheRoot(), "tree", `apt-${suite}`);
	const host = hostDebianMirror(dir);
	const override = process.env.MPCHECKGEN_DEBIAN_MIRROR;
	const mirror = override ? { ...host, uri: override, from: "MPCHECKGEN_DEBIAN_MIRROR" } : host;
	const sourcesList = join(dir, "sources.list");
	const lists = join(dir, "lists");
	const cache = join(dir, "cache");
	for (const d of [join(lists, "partial"), join(cache, "archives", "partial")]) mkdirSync(d, { recursive: true });
	const text = privateSourcesList(mirror, suite);
	if (!existsSync(sourcesList) || readFileSync(sourcesList, "utf8") !== text) writeFileSync(sourcesList, text);
	return { suite, dir, sourcesList, lists, cache, mirror, options: privateAptOptions(sourcesList, lists, cache) };
}

/**
 * apt-get takes its lists lock without waiting; test processes sharing the
 * cache queue on this file instead (flock(1), util-linux).
 */
function aptLock(apt: PrivateApt): string {
	return join(apt.dir, "mpcheckgen.lock");
}

const INDEX_MAX_AGE_MS = 24 * 3600 * 1000;

function indexAge(apt: PrivateApt): number {
	const stamp = join(apt.dir, "updated");
	return existsSync(stamp) ? Date.now() - statSync(stamp).mtimeMs : Infinity;
}

/** apt-get update with the private configuration (a few seconds for bookworm's indexes). */
export async function aptUpdate(apt: PrivateApt): Promise<void> {
	progress(`apt-get update (private ${apt.suite} configuration in ${apt.dir})`);
	// --error-on=any: without it apt-get update exits 0 when the archive is unreachable
	await runChecked("flock", [aptLock(apt), "apt-get", ...apt.options, "update", "--error-on=any"], {
		what: `apt-get update of the private ${apt.suite} configuration (from ${apt.mirror.from})`,
	});
	writeFileSync(join(apt.dir, "updated"), new Date().toISOString() + "\n");
}

/**
 * Runs `apt-get ARGS` in `cwd` with the private configuration. The indexes
 * are fetched first when missing or older than a day; a failure is retried
 * once after a fresh apt-get update (the archive may have moved on). Calls
 * from several processes sharing the cache run one at a time.
 */
export async function aptGet(apt: PrivateApt, args: string[], cwd: string, what: string): Promise<CommandResult> {
	let updated = false;
	if (indexAge(apt) > INDEX_MAX_AGE_MS) {
		await aptUpdate(apt);
		updated = true;
	}
	const run = () => runChecked("flock", [aptLock(apt), "apt-get", ...apt.options, ...args], { cwd, what });
	try {
		return await run();
	} catch (e) {
		if (updated || !(e instanceof CommandError)) throw e;
		progress(`${what} failed; running apt-get update and retrying`);
		await aptUpdate(apt);
		return await run();
	}
}
