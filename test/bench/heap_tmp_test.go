package bench
import ("testing";"os";"runtime";"runtime/pprof";"github.com/kubectl-harden/kubectl-harden/pkg/inventory";"github.com/kubectl-harden/kubectl-harden/pkg/checks";"github.com/kubectl-harden/kubectl-harden/pkg/checks/all")
func TestHeapTmp(t *testing.T){
	runtime.MemProfileRate=16384
	inv, err := inventory.Read([]string{os.Getenv("DIR")}, nil, inventory.ReadOptions{Complete: true})
	if err!=nil {t.Fatal(err)}
	reg, _ := all.Registry()
	res := checks.Run(inv, reg.All())
	runtime.GC()
	f,_:=os.Create("/tmp/heap.out"); pprof.WriteHeapProfile(f); f.Close()
	runtime.KeepAlive(inv); runtime.KeepAlive(res)
}
