package rootless

import (
	"errors"
	"os"
)

func asExecError(err error, target **ExecError) bool { return errors.As(err, target) }

func writeFile(path string, mode os.FileMode) error { return os.WriteFile(path, []byte("x"), mode) }
