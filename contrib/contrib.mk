# Build interfaces for other environments (not run by make check: no
# Docker engine, Jenkins or Windows here).
EXTRA_DIST += contrib/Dockerfile.builder contrib/build.ps1 contrib/Jenkinsfile
