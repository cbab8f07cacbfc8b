{{/*
Renders a values map as TOML: scalars of a table first, then its sub-tables ([a.b]) and arrays
of tables ([[a.b]]). Empty strings and nulls are left out, so the service applies its own default.
Strings go through toJson: a JSON string is a valid TOML basic string.
*/}}
{{- define "commucat.toml.table" -}}
{{- $path := .path -}}
{{- $table := .table -}}
{{- $scalars := list -}}
{{- range $key := keys $table | sortAlpha -}}
{{- $v := index $table $key -}}
{{- if and (not (kindIs "map" $v)) (not (kindIs "slice" $v)) (not (kindIs "invalid" $v)) (ne (toString $v) "") -}}
{{- $scalars = append $scalars (printf "%s = %s" $key (toJson $v)) -}}
{{- end -}}
{{- end -}}
{{- if and $path $scalars }}
[{{ $path }}]
{{- end }}
{{- range $scalars }}
{{ . }}
{{- end }}
{{- range $key := keys $table | sortAlpha -}}
{{- $v := index $table $key -}}
{{- $sub := ternary $key (printf "%s.%s" $path $key) (eq $path "") -}}
{{- if kindIs "map" $v -}}
{{- include "commucat.toml.table" (dict "path" $sub "table" $v) -}}
{{- else if kindIs "slice" $v -}}
{{- range $item := $v }}
[[{{ $sub }}]]
{{- range $k := keys $item | sortAlpha }}
{{ $k }} = {{ index $item $k | toJson }}
{{- end }}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
