// SPDX-License-Identifier: GPL-2.0-or-later
// Copyright (c) 2026 The mpcheckgen authors
/*
 * dlcheck: loads a checker plugin the way multipathd does and reports, as one
 * JSON object on stdout, which plugin ABI symbols it defines.
 *
 * Usage: dlcheck [-p LIBRARY]... PLUGIN
 *   -p LIBRARY  dlopen LIBRARY with RTLD_NOW | RTLD_GLOBAL before the plugin
 *               (in the order given), as multipathd has libmultipath and
 *               libmpathutil loaded already. A name without '/' is searched
 *               like any dlopen name (LD_LIBRARY_PATH, ld.so.cache, ...).
 *
 * The plugin is opened with RTLD_NOW, as add_checker_class() does, so every
 * undefined symbol and symbol version must resolve at load time.
 *
 * Output fields: plugin, preload (the libraries opened first), loaded
 * (bool); when loaded is false: failed (the library whose dlopen failed) and
 * error (its dlerror() text); when it is true: symbols (for each ABI symbol,
 * true when the plugin itself defines it), foreign (ABI symbols that resolve
 * only into another object), msgtable (the NULL-terminated libcheck_msgtable
 * strings, at most 100) and async_context_size (the value of
 * libcheck_async_context_size), each only when the plugin defines it.
 *
 * Exit status: 0 loaded, 1 a dlopen failed, 2 usage error.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PRELOAD	 16
#define MAX_MSGTABLE	 100

/* the plugin ABI symbols of 0.9.4 to 0.15 (multipath-abi.md, section 4) */
enum abi_symbol {
	SYM_CHECK,
	SYM_INIT,
	SYM_FREE,
	SYM_MP_INIT,
	SYM_RESET,
	SYM_THREAD,
	SYM_PENDING,
	SYM_NEED_WAIT,
	SYM_MSGTABLE,
	SYM_ASYNC_FUNC,
	SYM_ASYNC_INIT,
	SYM_CONTEXT_SIZE,
	N_ABI_SYMBOLS
};

static const char *const abi_symbols[N_ABI_SYMBOLS] = {
	[SYM_CHECK] = "libcheck_check",
	[SYM_INIT] = "libcheck_init",
	[SYM_FREE] = "libcheck_free",
	[SYM_MP_INIT] = "libcheck_mp_init",
	[SYM_RESET] = "libcheck_reset",
	[SYM_THREAD] = "libcheck_thread",
	[SYM_PENDING] = "libcheck_pending",
	[SYM_NEED_WAIT] = "libcheck_need_wait",
	[SYM_MSGTABLE] = "libcheck_msgtable",
	[SYM_ASYNC_FUNC] = "libcheck_async_func",
	[SYM_ASYNC_INIT] = "libcheck_async_init",
	[SYM_CONTEXT_SIZE] = "libcheck_async_context_size",
};

static void print_json_string(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void print_head(const char *plugin, char *const *preload, int n_preload)
{
	int i;

	fputs("{\"plugin\":", stdout);
	print_json_string(plugin);
	fputs(",\"preload\":[", stdout);
	for (i = 0; i < n_preload; i++) {
		if (i)
			putchar(',');
		print_json_string(preload[i]);
	}
	putchar(']');
}

static int fail(const char *plugin, char *const *preload, int n_preload,
		const char *what, const char *err)
{
	print_head(plugin, preload, n_preload);
	fputs(",\"loaded\":false,\"failed\":", stdout);
	print_json_string(what);
	fputs(",\"error\":", stdout);
	print_json_string(err ? err : "(no dlerror text)");
	fputs("}\n", stdout);
	return 1;
}

/*
 * Looks a symbol up from the plugin's handle: 1 when the plugin itself
 * defines it, 0 when it resolves into another object, -1 when it is absent.
 */
static int lookup(void *handle, struct link_map *self, const char *name, void **addr)
{
	struct link_map *owner = NULL;
	Dl_info info;

	dlerror();
	*addr = dlsym(handle, name);
	if (dlerror() != NULL || *addr == NULL)
		return -1;
	if (!dladdr1(*addr, &info, (void **)&owner, RTLD_DL_LINKMAP))
		return -1;
	return owner == self;
}

static void print_msgtable(const char *const *table)
{
	int i;

	fputs(",\"msgtable\":[", stdout);
	for (i = 0; i < MAX_MSGTABLE && table[i] != NULL; i++) {
		if (i)
			putchar(',');
		print_json_string(table[i]);
	}
	putchar(']');
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-p LIBRARY]... PLUGIN\n", prog);
	return 2;
}

int main(int argc, char *argv[])
{
	char *preload[MAX_PRELOAD];
	int n_preload = 0, opt, i;
	struct link_map *self = NULL;
	const char *plugin, *sep = "";
	void *handle, *addr[N_ABI_SYMBOLS];
	int where[N_ABI_SYMBOLS];
	int s;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p' || n_preload == MAX_PRELOAD)
			return usage(argv[0]);
		preload[n_preload++] = optarg;
	}
	if (optind != argc - 1)
		return usage(argv[0]);
	plugin = argv[optind];

	for (i = 0; i < n_preload; i++) {
		if (!dlopen(preload[i], RTLD_NOW | RTLD_GLOBAL))
			return fail(plugin, preload, n_preload, preload[i],
				    dlerror());
	}
	handle = dlopen(plugin, RTLD_NOW);
	if (!handle)
		return fail(plugin, preload, n_preload, plugin, dlerror());
	if (dlinfo(handle, RTLD_DI_LINKMAP, &self) != 0 || self == NULL)
		return fail(plugin, preload, n_preload, plugin, dlerror());

	for (s = 0; s < N_ABI_SYMBOLS; s++)
		where[s] = lookup(handle, self, abi_symbols[s], &addr[s]);

	print_head(plugin, preload, n_preload);
	fputs(",\"loaded\":true,\"symbols\":{", stdout);
	for (s = 0; s < N_ABI_SYMBOLS; s++)
		printf("%s\"%s\":%s", s ? "," : "", abi_symbols[s],
		       where[s] == 1 ? "true" : "false");
	fputs("},\"foreign\":[", stdout);
	for (s = 0; s < N_ABI_SYMBOLS; s++) {
		if (where[s] != 0)
			continue;
		printf("%s\"%s\"", sep, abi_symbols[s]);
		sep = ",";
	}
	putchar(']');
	if (where[SYM_MSGTABLE] == 1)
		print_msgtable((const char *const *)addr[SYM_MSGTABLE]);
	if (where[SYM_CONTEXT_SIZE] == 1)
		printf(",\"async_context_size\":%d",
		       *(const int *)addr[SYM_CONTEXT_SIZE]);
	fputs("}\n", stdout);
	return 0;
}
