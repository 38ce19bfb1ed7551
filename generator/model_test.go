package generator

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDebugModelShowsErrorResult: -debug-model prints each method's error
// result, with its type and whether an error converts to it, and copy=true.
func TestDebugModelShowsErrorResult(t *testing.T) {
	type method struct {
		Name    string
		Results []string
		Error   *struct {
			Type      string
			Interface bool
		}
		Copy bool
	}
	// methods returns the methods of the package in dir by Interface.Method.
	methods := func(dir string) map[string]method {
		out, err := Model(Config{Dir: dir})
		require.NoError(t, err)
		var pkgs []struct {
			Files []struct {
				Interfaces []struct {
					Name    string
					Methods []method
				}
			}
		}
		require.NoError(t, json.Unmarshal(out, &pkgs), "%s", out)
		ms := map[string]method{}
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, it := range f.Interfaces {
					for _, m := range it.Methods {
						ms[it.Name+"."+m.Name] = m
					}
				}
			}
		}
		return ms
	}

	team := methods(testdata + "/apperror")
	require.NotNil(t, team["TeamStore.Get"].Error, "Get has no error result")
	assert.Equal(t, "*zoogen.test/apperror.AppError", team["TeamStore.Get"].Error.Type)
	assert.False(t, team["TeamStore.Get"].Error.Interface, "*AppError is asserted to, not converted")
	assert.Equal(t, []string{"*zoogen.test/apperror.Team"}, team["TeamStore.Get"].Results, "the error result is not a value")
	require.NotNil(t, team["TeamStore.Delete"].Error)
	assert.Empty(t, team["TeamStore.Delete"].Results)

	accounts := methods(testdata + "/gtsdb")
	get := accounts["AccountDB.GetAccountByID"]
	require.NotNil(t, get.Error)
	assert.Equal(t, "zoogen.test/gtsdb.Error", get.Error.Type)
	assert.True(t, get.Error.Interface, "type Error error converts from error")
	assert.True(t, get.Copy)
	assert.False(t, accounts["AccountDB.GetAccountStatuses"].Copy)
	assert.False(t, accounts["UncopiedAccountDB.GetAccountByID"].Copy)

	counts := methods(testdata + "/counts")
	assert.Nil(t, counts["FollowerCounts.CountFollowers"].Error)
	article := methods(testdata + "/article")
	require.NotNil(t, article["ArticleRepository.Fetch"].Error)
	assert.Equal(t, "error", article["ArticleRepository.Fetch"].Error.Type)
	assert.True(t, article["ArticleRepository.Fetch"].Error.Interface)
}
