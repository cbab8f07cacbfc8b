{{/*
Names, labels and the catalogue of services. Templates loop over the catalogue, so every service
gets the same Deployment, Service, ServiceAccount, NetworkPolicy and PDB shape.
*/}}

{{- define "commucat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "commucat.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a per-service object: <fullname>-<service>, at most 63 characters. */}}
{{- define "commucat.componentName" -}}
{{- printf "%s-%s" (include "commucat.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "commucat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "commucat.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "commucat.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "commucat.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: commucat
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The services, their ports (gRPC 71xx, admin 91xx as in the local fleet), the datastores each one
opens, and the components allowed to call its gRPC port (from each service's main.ts: the gRPC
clients it creates; "cli" = the operator CLI pods of this release).
*/}}
{{- define "commucat.catalog" -}}
gateway:    {grpcPort: 0,    adminPort: 9100, postgres: false, redis: true,  callers: []}
secrets:    {grpcPort: 7101, adminPort: 9101, postgres: true,  redis: false, callers: [gateway, directory, federation, cli]}
directory:  {grpcPort: 7102, adminPort: 9102, postgres: true,  redis: false, callers: [gateway, router, federation, cli]}
presence:   {grpcPort: 7103, adminPort: 9103, postgres: false, redis: true,  callers: [gateway, router]}
router:     {grpcPort: 7104, adminPort: 9104, postgres: true,  redis: false, callers: []}
relay:      {grpcPort: 7105, adminPort: 9105, postgres: true,  redis: false, callers: [gateway, router]}
media:      {grpcPort: 7106, adminPort: 9106, postgres: false, redis: false, callers: []}
federation: {grpcPort: 7107, adminPort: 9107, postgres: true,  redis: false, callers: [gateway, directory, router, cli]}
{{- end -}}

{{/* The image of a component: its values block (with .image) and its folder name. */}}
{{- define "commucat.image" -}}
{{- $img := .root.Values.image -}}
{{- $own := .values.image | default dict -}}
{{- $repo := $own.repository -}}
{{- if not $repo -}}
{{- $repo = printf "%s/%s" $img.repository .component -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" $img.registry $repo -}}{{- end -}}
{{- end -}}
{{- /* A tag may be "1.0", "sha256:<hex>", "1.0@sha256:<hex>", "@sha256:<hex>" or "1.0@" (skaffold's
tag@digest with no digest yet). */ -}}
{{- $tag := $own.tag | default $img.tag | default .root.Chart.AppVersion | toString | trimSuffix "@" -}}
{{- if hasPrefix "sha256:" $tag -}}
{{- printf "%s@%s" $repo $tag -}}
{{- else if hasPrefix "@" $tag -}}
{{- printf "%s%s" $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{- define "commucat.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ .name }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level security: non-root, fixed ids, RuntimeDefault seccomp. */}}
{{- define "commucat.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security: the same, plus a read-only root and no capabilities at all. */}}
{{- define "commucat.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "commucat.secretName" -}}
{{- .Values.credentials.existingSecret | default (include "commucat.fullname" .) -}}
{{- end -}}

{{- define "commucat.gatewayTlsSecretName" -}}
{{- .Values.gateway.tls.existingSecret | default (printf "%s-tls" (include "commucat.componentName" (dict "root" . "component" "gateway"))) -}}
{{- end -}}

{{/* The PostgreSQL DSN without a password (the password travels as PGPASSWORD). */}}
{{- define "commucat.postgresDsn" -}}
{{- $pg := .Values.postgresql -}}
{{- $dsn := printf "postgres://%s@%s:%d/%s" (urlquery $pg.user) $pg.host (int $pg.port) (urlquery $pg.database) -}}
{{- if $pg.sslMode }}{{ $dsn = printf "%s?sslmode=%s" $dsn $pg.sslMode }}{{ end -}}
{{- $dsn -}}
{{- end -}}

{{/*
Env entries that give a process its PostgreSQL connection. .secretName is the Secret that holds
chart-managed credentials (the fleet Secret, or the migration hook's own Secret).
*/}}
{{- define "commucat.postgresEnv" -}}
{{- $pg := .root.Values.postgresql -}}
{{- if and $pg.existingSecret $pg.existingSecretDsnKey }}
- name: COMMUCAT_PG_DSN
  valueFrom:
    secretKeyRef: {name: {{ $pg.existingSecret | quote }}, key: {{ $pg.existingSecretDsnKey | quote }}}
{{- else if $pg.dsn }}
- name: COMMUCAT_PG_DSN
  valueFrom:
    secretKeyRef: {name: {{ .secretName | quote }}, key: pg-dsn}
{{- else }}
- name: COMMUCAT_PG_DSN
  value: {{ include "commucat.postgresDsn" .root | quote }}
{{- if $pg.existingSecret }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $pg.existingSecret | quote }}, key: {{ $pg.existingSecretPasswordKey | quote }}}
{{- else if $pg.password }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef: {name: {{ .secretName | quote }}, key: pg-password}
{{- end }}
{{- end }}
- name: COMMUCAT_PG_POOL_MAX
  value: {{ $pg.poolMax | quote }}
{{- end -}}

{{/* Redis: the URL, with the password spliced in by Kubernetes' $(VAR) expansion when there is one. */}}
{{- define "commucat.redisEnv" -}}
{{- $r := .Values.redis -}}
{{- if or $r.existingSecret $r.password }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ ($r.existingSecret | default (printf "%s-datastores" (include "commucat.fullname" .))) | quote }}
      key: {{ (ternary $r.existingSecretPasswordKey "redis-password" (ne $r.existingSecret "")) | quote }}
- name: COMMUCAT_REDIS_URL
  value: {{ regexReplaceAll "^([a-z]+://)" $r.url "${1}:$(REDIS_PASSWORD)@" | quote }}
{{- else }}
- name: COMMUCAT_REDIS_URL
  value: {{ $r.url | quote }}
{{- end }}
{{- end -}}

{{/* NATS credentials: the user in plain, the password or token from a Secret. Every service talks NATS. */}}
{{- define "commucat.natsEnv" -}}
{{- $n := .Values.nats -}}
{{- $secret := $n.existingSecret | default (printf "%s-datastores" (include "commucat.fullname" .)) -}}
{{- if $n.user }}
- name: COMMUCAT_NATS_USER
  value: {{ $n.user | quote }}
{{- if or $n.existingSecret $n.password }}
- name: COMMUCAT_NATS_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ (ternary $n.existingSecretPasswordKey "nats-password" (ne $n.existingSecret "")) | quote }}}
{{- end }}
{{- end }}
{{- if or (and $n.existingSecret $n.existingSecretTokenKey) (and $n.token (not $n.existingSecret)) }}
- name: COMMUCAT_NATS_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ (ternary $n.existingSecretTokenKey "nats-token" (ne $n.existingSecret "")) | quote }}}
{{- end }}
{{- end -}}

{{/* Common checks with messages that name the value to fix. */}}
{{- define "commucat.validate" -}}
{{- $tls := .Values.gateway.tls -}}
{{- if and (not $tls.existingSecret) (ne (empty $tls.certificate) (empty $tls.key)) -}}
{{- fail "gateway.tls: set both gateway.tls.certificate and gateway.tls.key (PEM), or neither" -}}
{{- end -}}
{{- $c := .Values.credentials -}}
{{- if ne (empty $c.noisePrivate) (empty $c.noisePublic) -}}
{{- fail "credentials: set both credentials.noisePrivate and credentials.noisePublic, or neither" -}}
{{- end -}}
{{- if and .Values.gateway.ingress.enabled (not .Values.gateway.ingress.host) -}}
{{- fail "gateway.ingress.host is required when gateway.ingress.enabled is true (TLS passthrough routes by SNI host)" -}}
{{- end -}}
{{- if and .Values.gateway.tlsRoute.enabled (empty .Values.gateway.tlsRoute.parentRefs) -}}
{{- fail "gateway.tlsRoute.parentRefs needs at least one Gateway when gateway.tlsRoute.enabled is true" -}}
{{- end -}}
{{- if and (eq .Values.config.ledger.mode "file") (not .Values.config.ledger.target) -}}
{{- fail "config.ledger.target is required when config.ledger.mode is file" -}}
{{- end -}}
{{- $n := .Values.nats -}}
{{- if and $n.user (not $n.password) (not $n.existingSecret) -}}
{{- fail "nats.user needs nats.password (or nats.existingSecret holding it)" -}}
{{- end -}}
{{- if and $n.password (not $n.user) -}}
{{- fail "nats.password needs nats.user" -}}
{{- end -}}
{{- if and (or $n.token $n.existingSecretTokenKey) $n.user -}}
{{- fail "nats: give nats.user with a password or a token (nats.token / nats.existingSecretTokenKey), not both" -}}
{{- end -}}
{{- if and (ne .Values.gateway.service.type "NodePort") (ne .Values.gateway.service.type "LoadBalancer") (not (kindIs "invalid" .Values.gateway.service.nodePort)) -}}
{{- fail "gateway.service.nodePort applies only to gateway.service.type NodePort or LoadBalancer" -}}
{{- end -}}
{{- end -}}

{{/* Keys of the datastore Secret (.hookOnly: only PostgreSQL's, for the migration hook). */}}
{{- define "commucat.datastoreSecretData" -}}
{{- $pg := .root.Values.postgresql -}}
{{- $dsnFromExisting := and $pg.existingSecret $pg.existingSecretDsnKey -}}
{{- if and $pg.dsn (not $dsnFromExisting) }}
pg-dsn: {{ $pg.dsn | b64enc | quote }}
{{- else if and $pg.password (not $pg.existingSecret) }}
pg-password: {{ $pg.password | b64enc | quote }}
{{- end }}
{{- if and .root.Values.redis.password (not .root.Values.redis.existingSecret) (not .hookOnly) }}
redis-password: {{ .root.Values.redis.password | b64enc | quote }}
{{- end }}
{{- $n := .root.Values.nats -}}
{{- if and $n.password (not $n.existingSecret) (not .hookOnly) }}
nats-password: {{ $n.password | b64enc | quote }}
{{- end }}
{{- if and $n.token (not $n.existingSecret) (not .hookOnly) }}
nats-token: {{ $n.token | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* The secrets service's key material; optional keys may be absent from the Secret. */}}
{{- define "commucat.secretsEnv" -}}
{{- $secret := include "commucat.secretName" . -}}
- name: COMMUCAT_SECRETS_KEK
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: secrets-kek}
{{- range $env, $key := dict "COMMUCAT_NOISE_PRIVATE" "noise-private" "COMMUCAT_NOISE_PUBLIC" "noise-public" "COMMUCAT_FEDERATION_SEED" "federation-seed" "COMMUCAT_ADMIN_TOKEN" "admin-token" }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ $key }}, optional: true}
{{- end }}
{{- if .Values.secrets.adminTokenFile.enabled }}
- name: COMMUCAT_ADMIN_TOKEN_FILE
  value: /var/run/commucat/admin/admin-token
{{- end }}
{{- end -}}
