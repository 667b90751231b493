// Added to FerretDB 1.24.2's SQLite backend by scripts/install-ferretdb.sh (not part of upstream).

package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// idPushdownMaxValues bounds an `$in` turned into SQL (SQLite allows 32,766 parameters).
const idPushdownMaxValues = 1000

// idPushdown returns the SQL condition that answers a filter's top-level `_id` from the `_id`
// index: `_id: v` or `_id: {$in: [v, ...]}` with strings or ObjectIDs, beside any other conditions.
// It narrows what SQLite returns; FerretDB still applies the whole filter to those documents.
func idPushdown(filter *types.Document) (string, []any, bool) {
	if filter == nil {
		return "", nil, false
	}

	v, _ := filter.Get("_id")
	switch v := v.(type) {
	case string, types.ObjectID:
		return fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn), []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}, true

	case *types.Document:
		if v.Len() != 1 {
			return "", nil, false
		}

		in, _ := v.Get("$in")
		values, ok := in.(*types.Array)
		if !ok || values.Len() == 0 || values.Len() > idPushdownMaxValues {
			return "", nil, false
		}

		args := make([]any, 0, values.Len())
		for i := 0; i < values.Len(); i++ {
			switch e := must.NotFail(values.Get(i)).(type) {
			case string, types.ObjectID:
				args = append(args, string(must.NotFail(sjson.MarshalSingleValue(e))))
			default:
				return "", nil, false
			}
		}

		return fmt.Sprintf(` WHERE %s IN (%s)`, metadata.IDColumn, strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")), args, true
	}

	return "", nil, false
}
