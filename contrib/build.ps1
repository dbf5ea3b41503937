<#
.SYNOPSIS
  Build JefeLinux on Windows through Docker.

.DESCRIPTION
  A thin wrapper: it builds the builder image from contrib/Dockerfile.builder
  and runs build.sh inside it with the source tree mounted, so Windows
  users get exactly the Linux build.  The ISO lands in out\.

.EXAMPLE
  $env:JEFE_BUILDER_BASE_DIGEST = 'sha256:...'   # see contrib/Dockerfile.builder
  .\contrib\build.ps1 -Target iso -Arch x86_64 -AuthorizedKeys $HOME\.ssh\id_ed25519.pub
  .\contrib\build.ps1 -Target check
  .\contrib\build.ps1 -Target iso -SecureBoot own -SignKey C:\keys\db.key -SignCert C:\keys\db.pem
  .\contrib\build.ps1 -Target disk -Format vhdx -AuthorizedKeys $HOME\.ssh\id_ed25519.pub

.NOTES
  The builder image's base is pinned by digest: -BaseDigest (default
  $env:JEFE_BUILDER_BASE_DIGEST), sha256:<64 hex digits>, is required
  (contrib/Dockerfile.builder says how to read it).

  -AuthorizedKeys is the admin's SSH public key(s) for the image (the
  image's root is locked: without a key nobody logs in over SSH); its
  directory is mounted read-only into the container.

  -Format raw|qcow2|vhdx is for -Target disk, the preinstalled disk image
  (vhdx for Hyper-V); ./build.sh --target disk makes it.

  -SecureBoot microsoft (default) boots on firmware that trusts Microsoft's
  UEFI CA (Hyper-V Gen 2: template MicrosoftUEFICertificateAuthority).
  -SecureBoot own signs a unified kernel image with -SignKey/-SignCert
  (the certificate must be in the firmware's db); the key's directory is
  mounted read-only into the container and nothing of it is kept
  (docs/secure-boot.md).
#>
[CmdletBinding()]
param(
    [ValidateSet('iso', 'disk', 'check', 'agent')]
    [string]$Target = 'iso',
    [ValidateSet('x86_64')]
    [string]$Arch = 'x86_64',
    [string]$Image = 'jefelinux-builder',
    [ValidateSet('microsoft', 'own')]
    [string]$SecureBoot = 'microsoft',
    [string]$SignKey,
    [string]$SignCert,
    [string]$AuthorizedKeys,
    [ValidateSet('raw', 'qcow2', 'vhdx')]
    [string]$Format,
    [string]$BaseDigest = $env:JEFE_BUILDER_BASE_DIGEST
)
$ErrorActionPreference = 'Stop'

if (-not (Get-Command docker -ErrorAction SilentlyContinue)) {
    throw 'docker was not found: install Docker Desktop (Linux containers) first.'
}
$root = Split-Path -Parent $PSScriptRoot

# The builder's base image, pinned by digest (never a moving tag).
if (-not $BaseDigest) {
    throw 'No builder base digest: set -BaseDigest or $env:JEFE_BUILDER_BASE_DIGEST to the sha256:... of the debian:bookworm image you checked (see contrib/Dockerfile.builder).'
}
if ($BaseDigest -cnotmatch '^sha256:[0-9a-f]{64}$') {
    throw "-BaseDigest '$BaseDigest' is not sha256: followed by 64 lowercase hex digits."
}

if ($Format -and $Target -ne 'disk') {
    throw '-Format is for -Target disk.'
}
if ($Target -eq 'disk' -and -not $Format) {
    $Format = 'vhdx'
}

docker build -f (Join-Path $root 'contrib/Dockerfile.builder') `
    --build-arg "BASE_DIGEST=$BaseDigest" -t $Image $root
if ($LASTEXITCODE -ne 0) { throw "docker build failed ($LASTEXITCODE)" }

$mounts = @('-v', "${root}:/src")
$extra = @()
if ($SecureBoot -eq 'own') {
    if (-not $SignKey -or -not $SignCert) {
        throw '-SecureBoot own needs -SignKey and -SignCert.'
    }
    $key = Resolve-Path $SignKey
    $cert = Resolve-Path $SignCert
    $mounts += @('-v', "$(Split-Path -Parent $key):/keys/key:ro",
                 '-v', "$(Split-Path -Parent $cert):/keys/cert:ro")
    $extra = @('--secure-boot', 'own',
               '--sign-key', "/keys/key/$(Split-Path -Leaf $key)",
               '--sign-cert', "/keys/cert/$(Split-Path -Leaf $cert)")
} elseif ($SignKey -or $SignCert) {
    throw '-SignKey and -SignCert are for -SecureBoot own.'
}
if ($AuthorizedKeys) {
    if ($Target -notin @('iso', 'disk')) {
        throw '-AuthorizedKeys is for -Target iso or disk.'
    }
    $keys = Resolve-Path $AuthorizedKeys
    $mounts += @('-v', "$(Split-Path -Parent $keys):/keys/auth:ro")
    $extra += @('--authorized-keys', "/keys/auth/$(Split-Path -Leaf $keys)")
}
if ($Format) {
    $extra += @('--format', $Format)
}

docker run --rm --privileged @mounts -w /src $Image `
    ./build.sh --target $Target --arch $Arch @extra
if ($LASTEXITCODE -ne 0) { throw "build.sh --target $Target failed ($LASTEXITCODE)" }

$outputs = @{ iso = '*.iso'; disk = "*.$Format" }
if ($outputs.ContainsKey($Target)) {
    Get-ChildItem (Join-Path $root 'out') -Filter $outputs[$Target] | ForEach-Object {
        Write-Host ("Output: {0} ({1:N0} MB)" -f $_.FullName, ($_.Length / 1MB))
    }
}
