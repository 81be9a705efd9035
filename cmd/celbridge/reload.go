package main

import (
	"context"
	"os"
	"reflect"
	"strings"
)

// reloadOnHUP serves SIGHUP for run, which Go would otherwise let kill the daemon (exit by
// signal, the requests in flight unrecorded, and systemd taking it for a clean stop). It reads
// the config file again: a file that does not parse or validate is reported and the running
// configuration stays; a valid one applies [log] level at once, and the log names every
// other section that changed, since those take effect at the next restart.
func (a *App) reloadOnHUP(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			a.reload()
		}
	}
}

func (a *App) reload() {
	if a.onHUP != nil {
		defer a.onHUP() // FreePBX's configuration is read again too
	}
	cfg, err := ReadConfigFile(a.path)
	if err != nil {
		a.Logger.Error("SIGHUP: the config file has errors; still running with the configuration read at start", "config", a.path, "err", err)
		return
	}
	if lvl, err := parseLevel(cfg.Log.Level); err == nil && a.level != nil {
		a.level.Set(lvl)
	}
	changed := changedSections(a.Config, cfg)
	if len(changed) == 0 {
		a.Logger.Info("SIGHUP: configuration read again", "config", a.path, "log_level", a.level.Level().String())
		return
	}
	a.Logger.Warn("SIGHUP: configuration read again; these sections changed and take effect at the next restart (systemctl restart celbridge)",
		"config", a.path, "sections", strings.Join(changed, ","), "log_level", a.level.Level().String())
}

// changedSections lists the config sections (by their TOML names) that differ between old
// and cur, leaving out [log], which a reload applies.
func changedSections(old, cur Config) []string {
	var out []string
	ov, cv := reflect.ValueOf(old), reflect.ValueOf(cur)
	for i := range ov.NumField() {
		name, _, _ := strings.Cut(ov.Type().Field(i).Tag.Get("toml"), ",")
		if name == "log" {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), cv.Field(i).Interface()) {
			out = append(out, name)
		}
	}
	return out
}
