{{/*
Name of every object of the release: the release name itself, so modelgate can find the
Deployment and Service from the release name alone. Release names are at most 53 characters.
*/}}
{{- define "modelgate-vllm.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "modelgate-vllm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "modelgate-vllm.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "modelgate-vllm.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "modelgate-vllm.labels" -}}
helm.sh/chart: {{ include "modelgate-vllm.chart" . }}
{{ include "modelgate-vllm.selectorLabels" . }}
app.kubernetes.io/version: {{ include "modelgate-vllm.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/component: model-server
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "modelgate-vllm.servedName" -}}
{{- .Values.model.servedName | default .Values.model.name }}
{{- end }}

{{/* GPUs per pod: gpu.count, or the tensor parallel size when gpu.count is null. */}}
{{- define "modelgate-vllm.gpuCount" -}}
{{- if kindIs "invalid" .Values.gpu.count }}
{{- .Values.engine.tensorParallelSize | int }}
{{- else }}
{{- .Values.gpu.count | int }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the Hugging Face token; empty when no token is configured. */}}
{{- define "modelgate-vllm.hfTokenSecret" -}}
{{- if .Values.hfToken.existingSecret }}
{{- .Values.hfToken.existingSecret }}
{{- else if .Values.hfToken.value }}
{{- printf "%s-hf-token" (include "modelgate-vllm.fullname" .) }}
{{- end }}
{{- end }}

{{- define "modelgate-vllm.modelCacheClaim" -}}
{{- if eq .Values.modelCache.type "existingClaim" }}
{{- .Values.modelCache.existingClaim }}
{{- else }}
{{- printf "%s-model-cache" (include "modelgate-vllm.fullname" .) }}
{{- end }}
{{- end }}

{{- define "modelgate-vllm.httpProbe" -}}
httpGet:
  path: /health
  port: http
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end }}
