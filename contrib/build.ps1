<#
.SYNOPSIS
  Build JefeLinux on Windows through Docker.

.DESCRIPTION
  A thin wrapper: it builds the builder image from contrib/Dockerfile.builder
  and runs build.sh inside it with the source tree mounted, so Windows
  users get exactly the Linux build.  The ISO lands in out\.

.EXAMPLE
  .\contrib\build.ps1 -Target iso -Arch x86_64
  .\contrib\build.ps1 -Target check
  .\contrib\build.ps1 -Target iso -SecureBoot own -SignKey C:\keys\db.key -SignCert C:\keys\db.pem

.NOTES
  -SecureBoot microsoft (default) boots on firmware that trusts Microsoft's
  UEFI CA (Hyper-V Gen 2: template MicrosoftUEFICertificateAuthority).
  -SecureBoot own signs a unified kernel image with -SignKey/-SignCert
  (the certificate must be in the firmware's db); the key's directory is
  mounted read-only into the container and nothing of it is kept
  (docs/secure-boot.md).
#>
[CmdletBinding()]
param(
    [ValidateSet('iso', 'check', 'agent')]
    [string]$Target = 'iso',
    [ValidateSet('x86_64')]
    [string]$Arch = 'x86_64',
    [string]$Image = 'jefelinux-builder',
    [ValidateSet('microsoft', 'own')]
    [string]$SecureBoot = 'microsoft',
    [string]$SignKey,
    [string]$SignCert
)
$ErrorActionPreference = 'Stop'

if (-not (Get-Command docker -ErrorAction SilentlyContinue)) {
    throw 'docker was not found: install Docker Desktop (Linux containers) first.'
}
$root = Split-Path -Parent $PSScriptRoot

docker build -f (Join-Path $root 'contrib/Dockerfile.builder') -t $Image $root
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

docker run --rm --privileged @mounts -w /src $Image `
    ./build.sh --target $Target --arch $Arch @extra
if ($LASTEXITCODE -ne 0) { throw "build.sh --target $Target failed ($LASTEXITCODE)" }

if ($Target -eq 'iso') {
    Get-ChildItem (Join-Path $root 'out') -Filter '*.iso' | ForEach-Object {
        Write-Host ("Output: {0} ({1:N0} MB)" -f $_.FullName, ($_.Length / 1MB))
    }
}
