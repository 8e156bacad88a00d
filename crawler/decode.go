package crawler

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
)

// decodeBody undoes compression the transport left in place. Wayback has
// sent gzip-encoded originals with an empty Content-Encoding ahead of
// "gzip", so HTTP libraries pass the gzip bytes through (EDGI
// web-monitoring-processing#309); the bytes are sniffed for the gzip magic
// 1f 8b or a zlib header and inflated here, with the same size cap. Data
// that does not inflate cleanly is returned as received, unless raw was
// itself cut at the cap, when the inflated prefix is the best we have.
func decodeBody(raw []byte, limit int64, rawTruncated bool) ([]byte, bool) {
	body, truncated := raw, rawTruncated
	for range 2 { // a second layer is cheap to check and has been seen in the wild
		var zr io.ReadCloser
		var err error
		switch {
		case isGzip(body):
			zr, err = gzip.NewReader(bytes.NewReader(body))
		case isZlib(body):
			zr, err = zlib.NewReader(bytes.NewReader(body))
		default:
			return body, truncated
		}
		if err != nil {
			return body, truncated
		}
		out, err := io.ReadAll(io.LimitReader(zr, limit+1))
		_ = zr.Close()
		if err != nil && !truncated {
			return body, truncated
		}
		if int64(len(out)) > limit {
			out, truncated = out[:limit], true
		}
		body = out
	}
	return body, truncated
}

func isGzip(b []byte) bool { return len(b) >= 10 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8 }

// isZlib checks the two-byte zlib header: deflate with a 32 KiB window (78)
// and a valid check value, the forms 78 01, 78 5e, 78 9c and 78 da.
func isZlib(b []byte) bool {
	if len(b) < 6 || b[0] != 0x78 {
		return false
	}
	switch b[1] {
	case 0x01, 0x5e, 0x9c, 0xda:
		return (uint16(b[0])<<8|uint16(b[1]))%31 == 0
	}
	return false
}
