package callapi

import (
	"os"
	"os/exec"
	"testing"
)

// phpCases are request bodies and what PHP 8.2 writes for json_encode(json_decode($body,
// true)) (taken from php-cli; TestEncodePHP_php checks them again where php is installed).
var phpCases = []struct{ in, want string }{
	{`{"generalCallID": [744924436], "x": "y"}`, `{"generalCallID":[744924436],"x":"y"}`},
	{`{"b":1.0,"a":[1e25,0.1,1.5e-7,100,9223372036854775808,-0.0,1E2]}`,
		`{"b":1,"a":[1.0e+25,0.1,1.5e-7,100,9.223372036854776e+18,-0,100]}`},
	{`[1e14,1e15,1e16,1e17,0.001,0.0001,0.00001,1.25e16,123456789.5,2.5e-5,1e100,5e-324]`,
		`[100000000000000,1000000000000000,10000000000000000,1.0e+17,0.001,0.0001,1.0e-5,12500000000000000,123456789.5,2.5e-5,1.0e+100,5.0e-324]`},
	{`{"c":"a/b\u0456\u00e9\u0001\u007f\ud83d\ude00<>&'"}`, "{\"c\":\"a\\/b\\u0456\\u00e9\\u0001\x7f\\ud83d\\ude00<>&'\"}"},
	{`{"c":"Іван Петренко"}`, `{"c":"\u0406\u0432\u0430\u043d \u041f\u0435\u0442\u0440\u0435\u043d\u043a\u043e"}`},
	{`{"d":{},"e":{"0":"x","1":"y"},"f":{"1":"x"},"g":{"x":1,"x":2,"y":3}}`,
		`{"d":[],"e":["x","y"],"f":{"1":"x"},"g":{"x":2,"y":3}}`},
	{`{"t":"\t\b\f\n\r\"\\","n":null,"b":[true,false],"i":-0}`, `{"t":"\t\b\f\n\r\"\\","n":null,"b":[true,false],"i":0}`},
}

func TestEncodePHP(t *testing.T) {
	for _, tc := range phpCases {
		v, err := decode([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got, err := encodePHP(v)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// TestEncodePHP_php runs the cases through php-cli itself, so the table above cannot drift
// from PHP. CI installs php-cli (scripts/test-mariadb.sh); elsewhere it is skipped.
func TestEncodePHP_php(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("php not found; scripts/test-mariadb.sh installs php-cli")
		}
		t.Skip("php not installed (apt-get install php-cli)")
	}
	for _, tc := range phpCases {
		out, err := exec.Command(php, "-r", `echo json_encode(json_decode($argv[1], true));`, tc.in).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tc.want {
			t.Errorf("php says %s for %s, the table %s", out, tc.in, tc.want)
		}
	}
}

func TestKsorted(t *testing.T) {
	v, _ := decode([]byte(`{"b":1,"a":2,"10":3,"9":4,"A":5,"_":6,"key":7,"signature":8}`))
	got, _ := encodePHP(v.(object).ksorted("key", "signature"))
	if want := `{"9":4,"10":3,"A":5,"_":6,"a":2,"b":1}`; string(got) != want {
		t.Fatalf("got %s, want %s (php ksort)", got, want)
	}
}
