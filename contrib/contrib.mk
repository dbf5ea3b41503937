# Build interfaces for other environments (not run by make check: no
# Docker engine, Jenkins or Windows here).
EXTRA_DIST += contrib/Dockerfile.builder contrib/build.ps1 contrib/Jenkinsfile
# Packaging: the Debian package (./build.sh --target deb, tests/pkg) and
# the Alpine APKBUILD (checked by tests/pkg/apkbuild.sh).
EXTRA_DIST += contrib/debian/changelog contrib/debian/control \
	contrib/debian/copyright contrib/debian/rules \
	contrib/debian/source/format contrib/debian/jefe.service \
	contrib/debian/jefe.jefe-boot.service \
	contrib/debian/jefe.lintian-overrides contrib/debian/jefe.postrm \
	contrib/alpine/APKBUILD
# Fleet monitoring over jefe-setup's metrics (docs/fleet.md; checked by
# tests/netns/daemon-fleet.sh), installed beside the report schema.
jefedatadir = $(datadir)/jefe
dist_jefedata_DATA = docs/jefe-report.schema.json contrib/grafana/jefe-dashboard.json \
	contrib/prometheus/jefe-alerts.yml
