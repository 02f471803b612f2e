{{- define "weightlift.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "weightlift.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "weightlift.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "weightlift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weightlift
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "weightlift.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weightlift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "weightlift.agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weightlift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{- define "weightlift.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (printf "%s-operator" (include "weightlift.fullname" .)) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "weightlift.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (printf "%s-agent" (include "weightlift.fullname" .)) .Values.agent.serviceAccount.name }}
{{- else }}
{{- required "agent.serviceAccount.name is required when agent.serviceAccount.create is false" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "weightlift.operator.image" -}}
{{- printf "%s:%s" .Values.operator.image.repository (default .Chart.AppVersion .Values.operator.image.tag) }}
{{- end }}

{{- define "weightlift.agent.image" -}}
{{- printf "%s:%s" .Values.agent.image.repository (default .Chart.AppVersion .Values.agent.image.tag) }}
{{- end }}

{{- define "weightlift.hubServiceName" -}}
{{- printf "%s-hub" (include "weightlift.fullname" .) }}
{{- end }}

{{/*
The Secret holding the CURVE keys: the user's, the one rendered from given keys, or the one the
key Job creates (same name as the rendered one, so switching between the two keeps the agents' mount).
*/}}
{{- define "weightlift.curveSecretName" -}}
{{- if .Values.curve.existingSecret }}
{{- .Values.curve.existingSecret }}
{{- else }}
{{- printf "%s-curve" (include "weightlift.fullname" .) }}
{{- end }}
{{- end }}

{{- define "weightlift.curveKeysGiven" -}}
{{- with .Values.curve.keys }}
{{- if or .serverPublic .serverSecret .agentPublic .agentSecret }}
{{- if not (and .serverPublic .serverSecret .agentPublic .agentSecret) }}
{{- fail "curve.keys: give all four keys (serverPublic, serverSecret, agentPublic, agentSecret) or none" }}
{{- end }}
{{- if $.Values.curve.existingSecret }}
{{- fail "curve: give either existingSecret or keys, not both" }}
{{- end }}
true
{{- end }}
{{- end }}
{{- end }}

{{- define "weightlift.restrictedContainerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}
