// Renders Kratos-style courier templates with Go's own text/template and html/template, as Kratos
// does, to produce the golden outputs the Swift tests compare the imported Mustache templates with.
//
//	go run render.go <kratos template dir> <data.json> <output dir>
//
// writes <output dir>/<recovery|recovery_code>/{subject,text,html}.txt
package main

import (
	"encoding/json"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	texttemplate "text/template"
)

type executor interface {
	Execute(io.Writer, any) error
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func render(path string, html bool, data any, out string) {
	source, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	must(err)
	var tmpl executor
	if html {
		tmpl, err = htmltemplate.New(filepath.Base(path)).Parse(string(source))
	} else {
		tmpl, err = texttemplate.New(filepath.Base(path)).Parse(string(source))
	}
	must(err)
	file, err := os.Create(out)
	must(err)
	defer file.Close()
	must(tmpl.Execute(file, data))
}

func main() {
	raw, err := os.ReadFile(os.Args[2])
	must(err)
	var data map[string]any
	must(json.Unmarshal(raw, &data))
	for _, name := range []string{"recovery", "recovery_code"} {
		dir := filepath.Join(os.Args[1], name, "valid")
		out := filepath.Join(os.Args[3], name)
		must(os.MkdirAll(out, 0o755))
		render(filepath.Join(dir, "email.subject.gotmpl"), false, data, filepath.Join(out, "subject.txt"))
		render(filepath.Join(dir, "email.body.plaintext.gotmpl"), false, data, filepath.Join(out, "text.txt"))
		render(filepath.Join(dir, "email.body.gotmpl"), true, data, filepath.Join(out, "html.txt"))
	}
}
