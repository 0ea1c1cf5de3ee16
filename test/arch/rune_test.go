package arch

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every command's RunE is exactly Complete, Validate, Run, as kubectl's
// commands are: flags become typed values once (Complete), are checked before
// anything is read (Validate), and the work is one call (Run). A command
// without options of its own (version) may be Run alone.
func TestRunEIsCompleteValidateRun(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "pkg", "cmd", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var fn *ast.FuncLit
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "RunE" {
					fn, _ = n.Value.(*ast.FuncLit)
				}
			case *ast.AssignStmt:
				if sel, ok := n.Lhs[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "RunE" && len(n.Rhs) == 1 {
					fn, _ = n.Rhs[0].(*ast.FuncLit)
				}
			}
			if fn == nil {
				return true
			}
			seen++
			if why := runEShape(fn.Body.List); why != "" {
				t.Errorf("%s: RunE is not Complete/Validate/Run: %s", fset.Position(fn.Pos()), why)
			}
			return true
		})
	}
	if seen < 10 {
		t.Fatalf("found only %d RunE functions in pkg/cmd: is the test still reading the commands?", seen)
	}
}

// runEShape returns why the statements are not `if err := x.Complete(...);
// err != nil { return err }`, the same for Validate, then `return x.Run...(...)`;
// a lone `return x.Run(...)` or a printing statement and return (version) pass too.
func runEShape(stmts []ast.Stmt) string {
	switch len(stmts) {
	case 3:
		if m := guardedCall(stmts[0]); m != "Complete" {
			return fmt.Sprintf("first statement calls %q, want Complete", m)
		}
		if m := guardedCall(stmts[1]); m != "Validate" {
			return fmt.Sprintf("second statement calls %q, want Validate", m)
		}
		if m := returnedCall(stmts[2]); !strings.HasPrefix(m, "Run") {
			return fmt.Sprintf("last statement returns %q, want a Run call", m)
		}
		return ""
	case 2:
		// version: print, return the error.
		if _, ok := stmts[0].(*ast.AssignStmt); ok {
			if _, ok := stmts[1].(*ast.ReturnStmt); ok {
				return ""
			}
		}
	}
	return fmt.Sprintf("%d statements", len(stmts))
}

// guardedCall returns the method called in `if err := x.M(...); err != nil { return err }`.
func guardedCall(s ast.Stmt) string {
	is, ok := s.(*ast.IfStmt)
	if !ok || is.Init == nil || len(is.Body.List) != 1 {
		return ""
	}
	as, ok := is.Init.(*ast.AssignStmt)
	if !ok || len(as.Rhs) != 1 {
		return ""
	}
	return method(as.Rhs[0])
}

func returnedCall(s ast.Stmt) string {
	rs, ok := s.(*ast.ReturnStmt)
	if !ok || len(rs.Results) != 1 {
		return ""
	}
	return method(rs.Results[0])
}

func method(e ast.Expr) string {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	return sel.Sel.Name
}
