/* SPDX-License-Identifier: MIT */
/* jefe-image-build: options, then the pipeline (pipeline.c). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ib.h"
#include "pipeline.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: jefe-image-build --agent-destdir DIR --authorized-keys FILE [options]\n"
		"\n"
		"Builds JefeLinux as a bootable hybrid BIOS/UEFI ISO in five cached stages.\n"
		"\n"
		"  --srcdir DIR             source tree (default: .)\n"
		"  --workdir DIR            cache and logs (default: SRCDIR/_build/image)\n"
		"  --outdir DIR             ISO, .sha256, manifest (default: SRCDIR/out)\n"
		"  --base debian|alpine|auto  base distribution (default: auto, the host's)\n"
		"  --arch x86_64            target architecture\n"
		"  --suite NAME             debian suite (bookworm) / alpine branch (v3.19)\n"
		"  --mirror URL             archive (default: the host's apt sources)\n"
		"  --security-mirror URL    debian security archive\n"
		"  --apk-keys DIR           alpine repository keys (default: /etc/apk/keys)\n"
		"  --agent-destdir DIR      the agent's files: its .deb unpacked, or make install DESTDIR=DIR\n"
		"  --agent-revision REV     agent source revision, for the manifest\n"
		"  --authorized-keys FILE   SSH public keys of the admin user\n"
		"  --overlay DIR            extra files copied over the root (repeatable)\n"
		"  --version VERSION        product version (default: %s)\n"
		"  --label LABEL            ISO volume label (default: JEFELINUX_<version>)\n"
		"  --syslog-remote HOST:PORT  log collector: RFC 5424 over TCP with TLS\n"
		"                           (the kernel's jefe.syslog=HOST:PORT overrides it)\n"
		"  --syslog-ca FILE         CA certificate(s) the collector's certificate\n"
		"                           must chain to; needed for any forwarding\n"
		"  --source-date-epoch N    every timestamp (default: $SOURCE_DATE_EPOCH)\n"
		"  --from-stage N           reuse stages before N from the cache, rebuild the rest\n"
		"  --no-cache               rebuild every stage\n"
		"  --lock FILE              install exactly the packages of FILE (an out/*.lock),\n"
		"                           each .deb checked against its SHA-256 (debian base)\n"
		"  --package-cache DIR      keep every downloaded .deb in DIR\n"
		"  --offline                no network: the locked packages from --package-cache\n"
		"  --secure-boot microsoft|own  UEFI chain: Debian's signed shim, GRUB and\n"
		"                           kernel (default), or a UKI signed with --sign-key\n"
		"                           and a dm-verity root\n"
		"  --sign-key FILE          own: PEM private key (not encrypted), never copied\n"
		"  --sign-cert FILE         own: PEM certificate of that key, enrolled in db\n"
		"  -h, --help               this text\n",
		PACKAGE_VERSION);
}

static int main_base_detect(void)
{
	char *data;
	int alpine;

	if (fs_read_file("/etc/os-release", &data, NULL) < 0)
		return 0;
	alpine = strstr(data, "\nID=alpine") != NULL || !strncmp(data, "ID=alpine", 9);
	free(data);
	return alpine;
}

int main(int argc, char **argv)
{
	enum {
		OPT_SRCDIR = 256, OPT_WORKDIR, OPT_OUTDIR, OPT_BASE, OPT_ARCH, OPT_SUITE,
		OPT_MIRROR, OPT_SECMIRROR, OPT_APKKEYS, OPT_DESTDIR, OPT_REVISION,
		OPT_KEYS, OPT_OVERLAY, OPT_VERSION, OPT_LABEL, OPT_SDE, OPT_FROM,
		OPT_NOCACHE, OPT_LOCK, OPT_PKGCACHE, OPT_OFFLINE, OPT_SECBOOT, OPT_SIGNKEY,
		OPT_SIGNCERT, OPT_SYSLOG_REMOTE, OPT_SYSLOG_CA,
	};
	static const struct option opts[] = {
		{ "srcdir", required_argument, NULL, OPT_SRCDIR },
		{ "workdir", required_argument, NULL, OPT_WORKDIR },
		{ "outdir", required_argument, NULL, OPT_OUTDIR },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "suite", required_argument, NULL, OPT_SUITE },
		{ "mirror", required_argument, NULL, OPT_MIRROR },
		{ "security-mirror", required_argument, NULL, OPT_SECMIRROR },
		{ "apk-keys", required_argument, NULL, OPT_APKKEYS },
		{ "agent-destdir", required_argument, NULL, OPT_DESTDIR },
		{ "agent-revision", required_argument, NULL, OPT_REVISION },
		{ "authorized-keys", required_argument, NULL, OPT_KEYS },
		{ "overlay", required_argument, NULL, OPT_OVERLAY },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "source-date-epoch", required_argument, NULL, OPT_SDE },
		{ "from-stage", required_argument, NULL, OPT_FROM },
		{ "no-cache", no_argument, NULL, OPT_NOCACHE },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "package-cache", required_argument, NULL, OPT_PKGCACHE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "secure-boot", required_argument, NULL, OPT_SECBOOT },
		{ "sign-key", required_argument, NULL, OPT_SIGNKEY },
		{ "sign-cert", required_argument, NULL, OPT_SIGNCERT },
		{ "syslog-remote", required_argument, NULL, OPT_SYSLOG_REMOTE },
		{ "syslog-ca", required_argument, NULL, OPT_SYSLOG_CA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ib_config cfg = {
		.srcdir = ".", .base = "auto", .arch = "x86_64",
		.version = PACKAGE_VERSION, .agent_revision = "unknown",
		.apk_keys = "/etc/apk/keys", .source_date_epoch = -1,
	};
	char workdir[PATH_MAX], outdir[PATH_MAX], label[64], mirror[512], secmirror[512];
	char path[PATH_MAX + 64], *end;
	const char *env;
	struct ib_lock lock = { 0 };
	const struct ib_base *base;
	struct sha256 h;
	sigset_t sigs;
	int c, err;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SRCDIR: cfg.srcdir = optarg; break;
		case OPT_WORKDIR: cfg.workdir = optarg; break;
		case OPT_OUTDIR: cfg.outdir = optarg; break;
		case OPT_BASE: cfg.base = optarg; break;
		case OPT_ARCH: cfg.arch = optarg; break;
		case OPT_SUITE: cfg.suite = optarg; break;
		case OPT_MIRROR: cfg.mirror = optarg; break;
		case OPT_SECMIRROR: cfg.security_mirror = optarg; break;
		case OPT_APKKEYS: cfg.apk_keys = optarg; break;
		case OPT_DESTDIR: cfg.agent_destdir = optarg; break;
		case OPT_REVISION: cfg.agent_revision = optarg; break;
		case OPT_KEYS: cfg.authorized_keys = optarg; break;
		case OPT_OVERLAY:
			if (cfg.n_overlays == IB_MAX_OVERLAYS) {
				fprintf(stderr, "jefe-image-build: at most %d --overlay\n",
					IB_MAX_OVERLAYS);
				return 64;
			}
			cfg.overlays[cfg.n_overlays++] = optarg;
			break;
		case OPT_VERSION: cfg.version = optarg; break;
		case OPT_LABEL: cfg.label = optarg; break;
		case OPT_SDE:
			errno = 0;
			cfg.source_date_epoch = strtoll(optarg, &end, 10);
			if (errno || *end || cfg.source_date_epoch < 0) {
				fprintf(stderr, "jefe-image-build: --source-date-epoch '%s': "
					"not a number of seconds\n", optarg);
				return 64;
			}
			break;
		case OPT_FROM:
			cfg.from_stage = atoi(optarg);
			if (cfg.from_stage < 1 || cfg.from_stage > IB_STAGES) {
				fprintf(stderr, "jefe-image-build: --from-stage %s: "
					"a stage number from 1 to %d\n", optarg, IB_STAGES);
				return 64;
			}
			break;
		case OPT_NOCACHE: cfg.no_cache = true; break;
		case OPT_LOCK: cfg.lock_path = optarg; break;
		case OPT_PKGCACHE: cfg.package_cache = optarg; break;
		case OPT_OFFLINE: cfg.offline = true; break;
		case OPT_SECBOOT:
			if (!strcmp(optarg, "microsoft")) {
				cfg.secure_boot = IB_SB_MICROSOFT;
			} else if (!strcmp(optarg, "own")) {
				cfg.secure_boot = IB_SB_OWN;
			} else {
				fprintf(stderr, "jefe-image-build: --secure-boot %s: use "
					"microsoft or own\n", optarg);
				return 64;
			}
			break;
		case OPT_SIGNKEY: cfg.sign_key = optarg; break;
		case OPT_SIGNCERT: cfg.sign_cert = optarg; break;
		case OPT_SYSLOG_REMOTE: cfg.syslog_remote = optarg; break;
		case OPT_SYSLOG_CA: cfg.syslog_ca = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jefe-image-build: unexpected argument '%s'\n", argv[optind]);
		return 64;
	}
	if (!strcmp(cfg.base, "auto"))
		cfg.base = main_base_detect() ? "alpine" : "debian";
	base = base_find(cfg.base);
	if (!base) {
		fprintf(stderr, "jefe-image-build: --base %s: use debian, alpine or auto\n",
			cfg.base);
		return 64;
	}
	if (strcmp(cfg.arch, "x86_64")) {
		fprintf(stderr, "jefe-image-build: --arch %s: only x86_64 is supported\n",
			cfg.arch);
		return 64;
	}
	if (!cfg.agent_destdir || !cfg.authorized_keys) {
		fprintf(stderr, "jefe-image-build: --agent-destdir and --authorized-keys "
			"are required\n");
		usage(stderr);
		return 64;
	}
	if (cfg.secure_boot == IB_SB_OWN && (!cfg.sign_key || !cfg.sign_cert)) {
		fprintf(stderr, "jefe-image-build: --secure-boot own needs --sign-key "
			"and --sign-cert\n");
		return 64;
	}
	if (cfg.secure_boot == IB_SB_MICROSOFT && (cfg.sign_key || cfg.sign_cert)) {
		fprintf(stderr, "jefe-image-build: --sign-key and --sign-cert are for "
			"--secure-boot own\n");
		return 64;
	}
	if (cfg.sign_key && access(cfg.sign_key, R_OK) != 0) {
		fprintf(stderr, "jefe-image-build: --sign-key %s: %s\n", cfg.sign_key,
			strerror(errno));
		return 64;
	}
	if (cfg.sign_cert && access(cfg.sign_cert, R_OK) != 0) {
		fprintf(stderr, "jefe-image-build: --sign-cert %s: %s\n", cfg.sign_cert,
			strerror(errno));
		return 64;
	}
	if (access(cfg.authorized_keys, R_OK) != 0) {
		fprintf(stderr, "jefe-image-build: --authorized-keys %s: %s\n",
			cfg.authorized_keys, strerror(errno));
		return 64;
	}
	if (cfg.syslog_remote && overlay_syslog_remote_check(cfg.syslog_remote) < 0) {
		fprintf(stderr, "jefe-image-build: --syslog-remote '%s': expected HOST:PORT "
			"(port 1-65535)\n", cfg.syslog_remote);
		return 64;
	}
	/* Forwarding is TLS only: a collector without a CA to check it by
	 * would be a plain-text or unauthenticated channel. */
	if (cfg.syslog_remote && !cfg.syslog_ca) {
		fprintf(stderr, "jefe-image-build: --syslog-remote needs --syslog-ca "
			"(forwarding is always TLS)\n");
		return 64;
	}
	if (cfg.syslog_ca && overlay_syslog_ca_check(cfg.syslog_ca) < 0)
		return 64;
	if (cfg.source_date_epoch < 0) {
		env = getenv("SOURCE_DATE_EPOCH");
		if (!env || !*env) {
			fprintf(stderr, "jefe-image-build: set --source-date-epoch or "
				"SOURCE_DATE_EPOCH (build.sh uses the last commit's time)\n");
			return 64;
		}
		cfg.source_date_epoch = strtoll(env, &end, 10);
		if (*end || cfg.source_date_epoch < 0) {
			fprintf(stderr, "jefe-image-build: SOURCE_DATE_EPOCH='%s': "
				"not a number of seconds\n", env);
			return 64;
		}
	}
	/* Given to each tool explicitly: some (mksquashfs) refuse it together
	 * with their own date options. */
	unsetenv("SOURCE_DATE_EPOCH");
	if (cfg.offline && (!cfg.lock_path || !cfg.package_cache)) {
		fprintf(stderr, "jefe-image-build: --offline needs --lock FILE and "
			"--package-cache DIR (the locked packages come from DIR)\n");
		return 64;
	}
	if ((cfg.lock_path || cfg.package_cache) && !base->locks) {
		fprintf(stderr, "jefe-image-build: --lock and --package-cache are not "
			"supported for the %s base (only for debian)\n", base->name);
		return 64;
	}
	if (cfg.lock_path) {
		if (lock_read(cfg.lock_path, &lock) < 0)
			return 64;
		if (strcmp(lock.base, cfg.base) || strcmp(lock.arch, cfg.arch) ||
		    (cfg.suite && strcmp(lock.suite, cfg.suite))) {
			fprintf(stderr, "jefe-image-build: --lock %s is for %s %s %s, "
				"this build is %s %s %s\n", cfg.lock_path, lock.base,
				lock.suite, lock.arch, cfg.base, cfg.suite ? cfg.suite : lock.suite,
				cfg.arch);
			lock_free(&lock);
			return 64;
		}
		cfg.suite = lock.suite;
		cfg.lock = &lock;
	}
	if (!cfg.suite)
		cfg.suite = base->default_suite;
	base->default_mirrors(cfg.suite, mirror, sizeof(mirror), secmirror, sizeof(secmirror));
	if (!cfg.mirror)
		cfg.mirror = mirror;
	/* A base without a separate security archive takes none, whatever was given. */
	if (!cfg.security_mirror || !*secmirror)
		cfg.security_mirror = secmirror;
	if (!cfg.workdir) {
		snprintf(workdir, sizeof(workdir), "%s/_build/image", cfg.srcdir);
		cfg.workdir = workdir;
	}
	if (!cfg.outdir) {
		snprintf(outdir, sizeof(outdir), "%s/out", cfg.srcdir);
		cfg.outdir = outdir;
	}
	if (!cfg.label) {
		/* ISO 9660 volume ids: upper case, digits and '_' */
		snprintf(label, sizeof(label), "JEFELINUX_%s", cfg.version);
		for (i = 0; label[i]; i++)
			if (label[i] == '.' || label[i] == '-')
				label[i] = '_';
		cfg.label = label;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "jefe-image-build: must run as root (chroots, file owners)\n");
		return 1;
	}
	/* sbin tools (mkfs.vfat, depmod) even from a user's PATH */
	env = getenv("PATH");
	snprintf(path, sizeof(path), "%s:/usr/sbin:/sbin:/usr/bin:/bin", env ? env : "");
	setenv("PATH", path, 1);
	umask(022);

	sha256_init(&h);
	err = fs_file_hash("/proc/self/exe", &h);
	if (err < 0) {
		fprintf(stderr, "jefe-image-build: /proc/self/exe: %s\n", strerror(-err));
		return 1;
	}
	sha256_final(&h, cfg.self_hash);

	/* Interrupts are taken synchronously (run.c waits for them), so a
	 * stage can remove its half-written result before we exit. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	err = pipeline_run(&cfg, &sigs);
	lock_free(&lock);
	if (err == -EINTR) {
		fprintf(stderr, "jefe-image-build: interrupted; nothing half-written "
			"was kept\n");
		return 130;
	}
	return err < 0 ? 1 : 0;
}
