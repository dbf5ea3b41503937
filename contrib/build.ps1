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
#>
[CmdletBinding()]
param(
    [ValidateSet('iso', 'check', 'agent')]
    [string]$Target = 'iso',
    [ValidateSet('x86_64')]
    [string]$Arch = 'x86_64',
    [string]$Image = 'jefelinux-builder'
)
$ErrorActionPreference = 'Stop'

if (-not (Get-Command docker -ErrorAction SilentlyContinue)) {
    throw 'docker was not found: install Docker Desktop (Linux containers) first.'
}
$root = Split-Path -Parent $PSScriptRoot

docker build -f (Join-Path $root 'contrib/Dockerfile.builder') -t $Image $root
if ($LASTEXITCODE -ne 0) { throw "docker build failed ($LASTEXITCODE)" }

docker run --rm --privileged -v "${root}:/src" -w /src $Image `
    ./build.sh --target $Target --arch $Arch
if ($LASTEXITCODE -ne 0) { throw "build.sh --target $Target failed ($LASTEXITCODE)" }

if ($Target -eq 'iso') {
    Get-ChildItem (Join-Path $root 'out') -Filter '*.iso' | ForEach-Object {
        Write-Host ("Output: {0} ({1:N0} MB)" -f $_.FullName, ($_.Length / 1MB))
    }
}
