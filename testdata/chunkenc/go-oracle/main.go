package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, path := range os.Args[1:] {
		b, err := os.ReadFile(path)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(w, "file %s\n", path)
		off := 8
		for off < len(b) {
			l, n := binary.Uvarint(b[off:])
			if n <= 0 || l == 0 {
				break
			}
			encOff := off + n
			enc := b[encOff]
			data := b[encOff+1 : encOff+1+int(l)]
			fmt.Fprintf(w, "chunk %d %d %d\n", encOff+1, enc, len(data))
			c, err := chunkenc.FromData(chunkenc.Encoding(enc), data)
			if err != nil {
				panic(err)
			}
			it := c.Iterator(nil)
			for {
				vt := it.Next()
				if vt == chunkenc.ValNone {
					break
				}
				switch vt {
				case chunkenc.ValFloat:
					t, v := it.At()
					fmt.Fprintf(w, "x %d %016x\n", t, math.Float64bits(v))
				case chunkenc.ValHistogram:
					t, h := it.AtHistogram()
					fmt.Fprintf(w, "h %d %d %s\n", t, h.CounterResetHint, h.String())
					_, fh := it.AtFloatHistogram()
					fmt.Fprintf(w, "f %d %d %s\n", t, fh.CounterResetHint, fh.String())
				case chunkenc.ValFloatHistogram:
					t, fh := it.AtFloatHistogram()
					fmt.Fprintf(w, "f %d %d %s\n", t, fh.CounterResetHint, fh.String())
				}
			}
			if it.Err() != nil {
				fmt.Fprintf(w, "err %v\n", it.Err())
			}
			off = encOff + 1 + int(l) + 4
		}
	}
}
