// Command decodefloor is the floor an offline audit is measured against: it
// splits every file into YAML documents, and the items of each List, and
// decodes each with sigs.k8s.io/yaml into a generic object on every core,
// keeping nothing. go run ./test/bench/cmd/decodefloor FILE|DIR...
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"sigs.k8s.io/yaml"
)

func main() {
	docs := make(chan []byte, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	objects := 0
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for d := range docs {
				var obj map[string]any
				if err := yaml.Unmarshal(d, &obj); err != nil {
					fmt.Fprintln(os.Stderr, "decodefloor:", err)
					os.Exit(1)
				}
				n++
			}
			mu.Lock()
			objects += n
			mu.Unlock()
		}()
	}
	for _, arg := range os.Args[1:] {
		err := filepath.Walk(arg, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			return split(f, docs)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "decodefloor:", err)
			os.Exit(1)
		}
	}
	close(docs)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "decoded %d documents\n", objects)
}

// split sends each document, and each item of a List printed by kubectl
// ("- " at column 0 under a top-level "items:"), as its own document.
func split(r io.Reader, docs chan<- []byte) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var doc, top bytes.Buffer
	inItems := false
	flushItem := func() {
		if doc.Len() > 0 {
			docs <- append([]byte(nil), doc.Bytes()...)
			doc.Reset()
		}
	}
	for {
		l, err := br.ReadBytes('\n')
		switch {
		case len(l) == 0:
		case bytes.HasPrefix(l, []byte("---")):
			flushItem()
			if top.Len() > 0 {
				docs <- append([]byte(nil), top.Bytes()...)
				top.Reset()
			}
			inItems = false
		case bytes.Equal(bytes.TrimRight(l, "\r\n"), []byte("items:")):
			inItems = true
		case inItems && bytes.HasPrefix(l, []byte("- ")):
			flushItem()
			doc.Write(l[2:])
		case inItems && (l[0] == ' ' || l[0] == '\n'):
			doc.Write(bytes.TrimPrefix(l, []byte("  ")))
		default:
			flushItem()
			inItems = false
			top.Write(l)
		}
		if err == io.EOF {
			flushItem()
			if top.Len() > 0 {
				docs <- append([]byte(nil), top.Bytes()...)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
