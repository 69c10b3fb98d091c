package arrowio

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TensorExtensionName is the name of the Arrow canonical extension type for
// fixed-shape tensors.
const TensorExtensionName = "arrow.fixed_shape_tensor"

// TensorType is the Arrow canonical extension type arrow.fixed_shape_tensor:
// every value is a dense tensor of one fixed shape, stored as a
// FixedSizeList of the value type with the product of the shape as its
// length, in C (row-major) order. Its extension metadata is the JSON object
// {"shape": [...]}; pyarrow reads such a column as pyarrow.FixedShapeTensorArray.
//
// arrow-go v18.9 does not ship this type, so it is defined here. It is
// registered with arrow.RegisterExtensionType when the package loads, unless
// another package registered the name first.
type TensorType struct {
	arrow.ExtensionBase
	shape []int
}

type tensorMetadata struct {
	Shape       []int    `json:"shape"`
	DimNames    []string `json:"dim_names,omitempty"`
	Permutation []int    `json:"permutation,omitempty"`
}

// NewTensorType returns the fixed-shape tensor type of values of type value
// and the given shape. Every dimension must be at least 1.
func NewTensorType(value arrow.DataType, shape []int) (*TensorType, error) {
	n := 1
	for i, d := range shape {
		if d < 1 {
			return nil, fmt.Errorf("tensor shape %v: dimension %d is %d, must be at least 1", shape, i, d)
		}
		if n > (1<<31-1)/d {
			return nil, fmt.Errorf("tensor shape %v has more than 2^31-1 values per tensor", shape)
		}
		n *= d
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("tensor shape is empty: a tensor has at least one dimension")
	}
	storage := arrow.FixedSizeListOfNonNullable(int32(n), value)
	return &TensorType{ExtensionBase: arrow.ExtensionBase{Storage: storage}, shape: slices.Clone(shape)}, nil
}

// Shape returns the shape of each tensor.
func (t *TensorType) Shape() []int { return slices.Clone(t.shape) }

// ValueType returns the element type of the tensors.
func (t *TensorType) ValueType() arrow.DataType {
	return t.Storage.(*arrow.FixedSizeListType).Elem()
}

func (*TensorType) ArrayType() reflect.Type { return reflect.TypeOf(TensorArray{}) }

func (*TensorType) ExtensionName() string { return TensorExtensionName }

func (t *TensorType) String() string {
	return fmt.Sprintf("extension<%s[value_type=%s, shape=%v]>", TensorExtensionName, t.ValueType(), t.shape)
}

func (t *TensorType) Serialize() string {
	b, _ := json.Marshal(tensorMetadata{Shape: t.shape})
	return string(b)
}

// Deserialize builds the type from IPC metadata. It accepts only C-order
// tensors: metadata with a permutation other than the identity is rejected,
// because this package hands out values in C order.
func (*TensorType) Deserialize(storage arrow.DataType, data string) (arrow.ExtensionType, error) {
	var md tensorMetadata
	if err := json.Unmarshal([]byte(data), &md); err != nil {
		return nil, fmt.Errorf("%s metadata %q: %w", TensorExtensionName, data, err)
	}
	for i, p := range md.Permutation {
		if p != i {
			return nil, fmt.Errorf("%s permutation %v: only the identity permutation is supported", TensorExtensionName, md.Permutation)
		}
	}
	list, ok := storage.(*arrow.FixedSizeListType)
	if !ok {
		return nil, fmt.Errorf("%s storage type %s: must be a fixed_size_list", TensorExtensionName, storage)
	}
	t, err := NewTensorType(list.Elem(), md.Shape)
	if err != nil {
		return nil, err
	}
	if t.Storage.(*arrow.FixedSizeListType).Len() != list.Len() {
		return nil, fmt.Errorf("%s shape %v has %d values, the storage list has %d", TensorExtensionName, md.Shape, t.Storage.(*arrow.FixedSizeListType).Len(), list.Len())
	}
	// Keep the storage as sent: its list field may be named or nullable
	// differently than the one NewTensorType builds.
	t.Storage = storage
	return t, nil
}

func (t *TensorType) ExtensionEquals(other arrow.ExtensionType) bool {
	o, ok := other.(*TensorType)
	return ok && slices.Equal(t.shape, o.shape) && arrow.TypeEqual(t.ValueType(), o.ValueType())
}

// TensorArray is an array of TensorType.
type TensorArray struct {
	array.ExtensionArrayBase
}

func init() {
	if arrow.GetExtensionType(TensorExtensionName) == nil {
		if err := arrow.RegisterExtensionType(&TensorType{ExtensionBase: arrow.ExtensionBase{Storage: arrow.FixedSizeListOf(1, arrow.PrimitiveTypes.Float32)}, shape: []int{1}}); err != nil {
			panic(err)
		}
	}
}
