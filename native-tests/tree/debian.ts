// Debian's multipath-tools, fetched through the private apt configuration
// and cached (never installed):
// - the source package (apt-get source --download-only, dpkg-source -x),
//   unpacked once into <cache>/tree/src/<pkg>_<version>/tree, the pristine
//   tree tests copy;
// - the binary package (apt-get download, dpkg -x) in
//   <cache>/tree/bin/<pkg>_<version>_<arch>/root.
// Each cache entry is built in a temporary sibling and renamed into place
// with a completion marker, like the kernel cache (native-tests/vm/kernel.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureHostPackages } from "../support/host-packages.ts";
import { cacheRoot, tmpSibling } from "../vm/util.ts";
import { aptGet, privateApt } from "./apt.ts";
import { fmtSeconds, progress, runChecked } from "./exec.ts";

/** The multipath-tools releases tests can build against (only bookworm's pool is served here). */
export const TREE_RELEASES = {
	"0.9.4": {
		release: "0.9.4",
		source: "multipath-tools",
		debVersion: "0.9.4-3+deb12u2",
		suite: "bookworm",
		arch: "amd64",
		/** libmultipath/version.h */
		versionCode: 0x000904,
	},
} as const;

export type TreeReleaseName = keyof typeof TREE_RELEASES;
export type TreeRelease = (typeof TREE_RELEASES)[TreeReleaseName];

export function treeRelease(name: string): TreeRelease {
	const r = (TREE_RELEASES as Record<string, TreeRelease>)[name];
	if (!r) {
		throw new Error(
			`mpcheckgen tree: no Debian multipath-tools tree for release ${JSON.stringify(name)}; ` +
				`known: ${Object.keys(TREE_RELEASES).join(", ")}`,
		);
	}
	return r;
}

/** Debian packages a tree build (make) and its make test need (trees.md), plus dpkg-dev for dpkg-source. */
export const TREE_BUILD_PACKAGES: readonly string[] = [
	"dpkg-dev",
	"make",
	"gcc",
	"libc6-dev",
	"pkg-config",
	"libaio-dev",
	"libdevmapper-dev",
	"libedit-dev",
	"libjson-c-dev",
	"libsystemd-dev",
	"libudev-dev",
	"liburcu-dev",
	"systemd",
	"libcmocka-dev",
];

/** Shared libraries Debian's 0.9.4 libmultipath and plugins load (the binary package's Depends). */
export const TREE_RUNTIME_PACKAGES: readonly string[] = [
	"libaio1",
	"libdevmapper1.02.1",
	"libedit2",
	"libjson-c5",
	"libsystemd0",
	"libudev1",
	"liburcu8",
];

const MARKER = ".mpcheckgen-complete.json";

function readMarker<T>(dir: string, valid: (info: T) => boolean): T | undefined {
	const marker = join(dir, MARKER);
	if (!existsSync(marker)) return undefined;
	try {
		const info = JSON.parse(readFileSync(marker, "utf8")) as T;
		if (valid(info)) return info;
	} catch {
		/* unreadable marker: redo */
	}
	progress(`cache entry ${dir} is damaged; fetching again`);
	return undefined;
}

/** Writes the marker into `work` and renames it to `dir` (unless another process finished first). */
function commitEntry(work: string, dir: string, info: unknown): void {
	writeFileSync(join(work, MARKER), JSON.stringify(info, null, 2) + "\n");
	if (existsSync(join(dir, MARKER))) return;
	rmSync(dir, { recursive: true, force: true });
	try {
		renameSync(work, dir);
	} catch (e) {
		if (!existsSync(join(dir, MARKER))) throw e;
	}
}

export interface SourceTree {
	release: TreeRelease;
	/** the pristine unpacked tree: never build in it, copy it (prepareTree) */
	pristine: string;
	/** the .dsc and tarballs apt-get source downloaded */
	downloads: string[];
	/** VERSION_CODE read from libmultipath/version.h */
	versionCode: number;
}

/** VERSION_CODE of a multipath-tools tree (libmultipath/version.h). */
export function readVersionCode(treeDir: string): number {
	const file = join(treeDir, "libmultipath", "version.h");
	const m = /^#define\s+VERSION_CODE\s+(0x[0-9a-fA-F]+)\b/m.exec(readFileSync(file, "utf8"));
	if (!m) throw new Error(`mpcheckgen tree: ${file} defines no VERSION_CODE`);
	return Number.parseInt(m[1], 16);
}

const sourceMemo = new Map<string, Promise<SourceTree>>();
const binaryMemo = new Map<string, Promise<DebianBinaries>>();

function memoized<T>(memo: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
	let p = memo.get(key);
	if (!p) {
		p = make();
		memo.set(key, p);
		p.catch(() => memo.delete(key));
	}
	return p;
}

/** The cached pristine Debian source tree of `release`, fetched and unpacked on first use. */
export function ensureSourceTree(release: string = "0.9.4"): Promise<SourceTree> {
	const r = treeRelease(release);
	return memoized(sourceMemo, r.release, () => ensureSourceTreeUncached(r));
}

async function ensureSourceTreeUncached(r: TreeRelease): Promise<SourceTree> {
	const dir = join(cacheRoot(), "tree", "src", `${r.source}_${r.debVersion}`);
	const cached = readMarker<SourceTree>(dir, (i) => existsSync(join(i.pristine, "libmultipath", "version.h")));
	if (cached) return cached;
	ensureHostPackages(["dpkg-dev"]);
	const apt = privateApt(r.suite);
	const work = tmpSibling(dir);
	const dl = join(work, "downloads");
	mkdirSync(dl, { recursive: true });
	try {
		const t0 = Date.now();
		progress(`fetching Debian's source package ${r.source} ${r.debVersion} (${r.suite})`);
		await aptGet(apt, ["source", "--download-only", `${r.source}=${r.debVersion}`], dl, `apt-get source ${r.source}`);
		const dsc = readdirSync(dl).find((f) => f.endsWith(".dsc"));
		if (!dsc) throw new Error(`mpcheckgen tree: apt-get source ${r.source}=${r.debVersion} left no .dsc in ${dl}`);
		const tree = join(work, "tree");
		// dpkg-source checks the files' hashes against the .dsc (apt checked
		// them against the signed Sources index; the .dsc signature itself
		// cannot be checked without debian-keyring and only draws a warning)
		await runChecked("dpkg-source", ["-x", join(dl, dsc), tree], { what: `dpkg-source -x ${dsc}` });
		const versionCode = readVersionCode(tree);
		if (versionCode !== r.versionCode) {
			throw new Error(
				`mpcheckgen tree: ${r.source} ${r.debVersion} has VERSION_CODE 0x${versionCode.toString(16)}, ` +
					`expected 0x${r.versionCode.toString(16)}`,
			);
		}
		progress(`unpacked ${r.source} ${r.debVersion} in ${fmtSeconds(Date.now() - t0)}`);
		const info: SourceTree = {
			release: r,
			pristine: join(dir, "tree"),
			downloads: readdirSync(dl).map((f) => join(dir, "downloads", f)),
			versionCode,
		};
		commitEntry(work, dir, info);
		return info;
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}

export interface DebianBinaries {
	release: TreeRelease;
	/** the .deb's name, e.g. multipath-tools_0.9.4-3+deb12u2_amd64.deb */
	deb: string;
	/** the dpkg -x root */
	root: string;
	/** directory of libmultipath.so.0, libmpathutil.so.0, libmpathcmd.so.0 */
	libDir: string;
	libmultipath: string;
	libmpathutil: string;
	libmpathcmd: string;
	/** the stock plugins' directory (plugindir /lib/multipath) */
	pluginDir: string;
	/** checker name → libcheck<name>.so */
	checkers: Record<string, string>;
	multipathd: string;
	multipath: string;
}

/** Debian's binary package of `release`, downloaded and extracted (never installed) on first use. */
export function ensureDebianBinaries(release: string = "0.9.4"): Promise<DebianBinaries> {
	const r = treeRelease(release);
	return memoized(binaryMemo, r.release, () => ensureBinariesUncached(r));
}

function binariesIn(r: TreeRelease, root: string, deb: string): DebianBinaries {
	const libDir = join(root, "lib");
	const pluginDir = join(libDir, "multipath");
	const checkers: Record<string, string> = {};
	for (const f of readdirSync(pluginDir).sort()) {
		const m = /^libcheck(\w+)\.so$/.exec(f);
		if (m) checkers[m[1]] = join(pluginDir, f);
	}
	const b: DebianBinaries = {
		release: r,
		deb,
		root,
		libDir,
		libmultipath: join(libDir, "libmultipath.so.0"),
		libmpathutil: join(libDir, "libmpathutil.so.0"),
		libmpathcmd: join(libDir, "libmpathcmd.so.0"),
		pluginDir,
		checkers,
		multipathd: join(root, "sbin", "multipathd"),
		multipath: join(root, "sbin", "multipath"),
	};
	const missing = [b.libmultipath, b.libmpathutil, b.libmpathcmd, b.multipathd, b.multipath].filter((f) => !existsSync(f));
	if (missing.length > 0 || !checkers.tur) {
		throw new Error(`mpcheckgen tree: ${deb} lacks ${[...missing, ...(checkers.tur ? [] : ["libchecktur.so"])].join(", ")}`);
	}
	return b;
}

async function ensureBinariesUncached(r: TreeRelease): Promise<DebianBinaries> {
	const deb = `${r.source}_${r.debVersion}_${r.arch}.deb`;
	const dir = join(cacheRoot(), "tree", "bin", `${r.source}_${r.debVersion}_${r.arch}`);
	const cached = readMarker<{ deb: string }>(dir, (i) => i.deb === deb && existsSync(join(dir, "root", "lib")));
	if (cached) {
		ensureHostPackages(TREE_RUNTIME_PACKAGES);
		return binariesIn(r, join(dir, "root"), deb);
	}
	ensureHostPackages(["dpkg-dev", ...TREE_RUNTIME_PACKAGES]);
	const apt = privateApt(r.suite);
	const work = tmpSibling(dir);
	mkdirSync(work, { recursive: true });
	try {
		const t0 = Date.now();
		progress(`downloading Debian's ${deb}`);
		await aptGet(apt, ["download", `${r.source}:${r.arch}=${r.debVersion}`], work, `apt-get download ${r.source}`);
		const got = readdirSync(work).find((f) => f.endsWith(".deb"));
		if (!got) throw new Error(`mpcheckgen tree: apt-get download ${r.source} left no .deb in ${work}`);
		if (got !== deb && got !== deb.replace("+", "%2b")) {
			throw new Error(`mpcheckgen tree: apt-get download gave ${got}, expected ${deb}`);
		}
		await runChecked("dpkg", ["-x", join(work, got), join(work, "root")], { what: `dpkg -x ${got}` });
		rmSync(join(work, got), { force: true });
		binariesIn(r, join(work, "root"), deb); // checks the layout before the entry is committed
		progress(`extracted ${deb} in ${fmtSeconds(Date.now() - t0)}`);
		commitEntry(work, dir, { deb, fetched: new Date().toISOString() });
		return binariesIn(r, join(dir, "root"), deb);
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}

