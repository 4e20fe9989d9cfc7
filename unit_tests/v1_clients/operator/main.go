// A Mesos v1 operator client written against Debian's mesos-go (httpcli, httpmaster, master/calls): it asks a
// master for GET_HEALTH, GET_VERSION and GET_STATE and prints what it learnt, one fact per line, for the mesoscaf
// tests to read. With --subscribe it then follows the master's SUBSCRIBE stream and prints each event.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpmaster"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/master/calls"
)

func main() {
	endpoint := flag.String("url", "", "the master's operator API: http://HOST:PORT/api/v1")
	codecName := flag.String("codec", "json", "json or protobuf")
	subscribe := flag.Bool("subscribe", false, "follow the SUBSCRIBE stream after GET_STATE")
	events := flag.Int("events", 0, "with --subscribe: exit 0 after this many events past SUBSCRIBED (0: never)")
	timeout := flag.Duration("timeout", 120*time.Second, "give up after this long")
	flag.Parse()

	mediaType := codecs.MediaTypeJSON
	if *codecName == "protobuf" {
		mediaType = codecs.MediaTypeProtobuf
	}
	cli := httpcli.New(httpcli.Endpoint(*endpoint), httpcli.Codec(codecs.ByMediaType[mediaType]),
		httpcli.Do(httpcli.With(httpcli.Timeout(*timeout))))
	sender := httpmaster.NewSender(cli.Send)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	get := func(c *master.Call) *master.Response {
		resp, err := sender.Send(ctx, calls.NonStreaming(c))
		if err != nil {
			fmt.Println("call failed:", c.GetType().String(), err)
			os.Exit(3)
		}
		defer resp.Close()
		var r master.Response
		if err := resp.Decode(&r); err != nil {
			fmt.Println("undecodable response:", err)
			os.Exit(4)
		}
		return &r
	}

	fmt.Println("healthy", get(calls.GetHealth()).GetGetHealth().GetHealthy())
	fmt.Println("version", get(calls.GetVersion()).GetGetVersion().VersionInfo.Version)
	st := get(calls.GetState()).GetGetState()
	fmt.Println("agents", len(st.GetGetAgents().GetAgents()))
	for _, a := range st.GetGetAgents().GetAgents() {
		fmt.Println("agent", a.AgentInfo.ID.GetValue(), a.AgentInfo.Hostname)
	}
	fmt.Println("frameworks", len(st.GetGetFrameworks().GetFrameworks()))
	for _, f := range st.GetGetFrameworks().GetFrameworks() {
		fmt.Println("framework", f.FrameworkInfo.ID.GetValue(), f.FrameworkInfo.Name)
	}
	for _, t := range st.GetGetTasks().GetTasks() {
		fmt.Println("task", t.TaskID.Value, t.GetState().String())
	}
	if !*subscribe {
		return
	}
	resp, err := sender.Send(ctx, calls.NonStreaming(calls.Subscribe()))
	if err != nil {
		fmt.Println("subscribe failed:", err)
		os.Exit(3)
	}
	defer resp.Close()
	seen := 0
	for {
		var e master.Event
		if err := resp.Decode(&e); err != nil {
			fmt.Println("stream ended:", err)
			os.Exit(5)
		}
		switch e.GetType() {
		case master.Event_SUBSCRIBED:
			fmt.Println("event SUBSCRIBED tasks", len(e.GetSubscribed().GetGetState().GetGetTasks().GetTasks()))
			continue
		case master.Event_TASK_ADDED:
			fmt.Println("event TASK_ADDED", e.GetTaskAdded().Task.TaskID.Value)
		case master.Event_TASK_UPDATED:
			fmt.Println("event TASK_UPDATED", e.GetTaskUpdated().Status.TaskID.Value,
				e.GetTaskUpdated().GetState().String())
		case master.Event_FRAMEWORK_ADDED:
			fmt.Println("event FRAMEWORK_ADDED", e.GetFrameworkAdded().Framework.FrameworkInfo.Name)
		case master.Event_FRAMEWORK_REMOVED:
			fmt.Println("event FRAMEWORK_REMOVED", e.GetFrameworkRemoved().FrameworkInfo.ID.GetValue())
		case master.Event_AGENT_ADDED:
			fmt.Println("event AGENT_ADDED", e.GetAgentAdded().Agent.AgentInfo.ID.GetValue())
		case master.Event_AGENT_REMOVED:
			fmt.Println("event AGENT_REMOVED", e.GetAgentRemoved().AgentID.Value)
		default:
			fmt.Println("event", e.GetType().String())
		}
		seen++
		if *events > 0 && seen >= *events {
			return
		}
	}
}
