package qos

import (
	"encoding/json"
	"math"
	"reflect"
)

// MarshalJSON encodes the report with null in place of NaN and infinite
// numbers (a metric without a closed-form rule, a PSNR of +Inf), which
// encoding/json rejects.
func (r *EvalReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"rows": finiteOrNull(r.Rows), "cases": finiteOrNull(r.Cases)})
}

// finiteOrNull converts v to maps, slices and numbers, with nil for NaN
// and infinities. Struct fields keep their json names.
func finiteOrNull(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return f
	case reflect.Slice:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = finiteOrNull(rv.Index(i).Interface())
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		t := rv.Type()
		for i := range t.NumField() {
			name := t.Field(i).Name
			if tag := t.Field(i).Tag.Get("json"); tag != "" && tag != "-" {
				name = tag
			}
			out[name] = finiteOrNull(rv.Field(i).Interface())
		}
		return out
	}
	return v
}
