// A Mesos v1 agent operator client written against Debian's mesos-go (httpagent, agent/calls): it reads an agent's
// health, identity, state and containers, lists a sandbox and reads a file of it, one line per fact for the
// mesoscaf tests to read.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/agent"
	"github.com/mesos/mesos-go/api/v1/lib/agent/calls"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpagent"
)

func main() {
	endpoint := flag.String("url", "", "the agent's operator API: http://HOST:PORT/api/v1")
	codecName := flag.String("codec", "json", "json or protobuf")
	sandbox := flag.String("sandbox", "", "a sandbox directory to list, and whose stdout to read")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()

	mediaType := codecs.MediaTypeJSON
	if *codecName == "protobuf" {
		mediaType = codecs.MediaTypeProtobuf
	}
	cli := httpcli.New(httpcli.Endpoint(*endpoint), httpcli.Codec(codecs.ByMediaType[mediaType]),
		httpcli.Do(httpcli.With(httpcli.Timeout(*timeout))))
	sender := httpagent.NewSender(cli.Send)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	get := func(c *agent.Call) *agent.Response {
		resp, err := sender.Send(ctx, calls.NonStreaming(c))
		if err != nil {
			fmt.Println("call failed:", c.GetType().String(), err)
			os.Exit(3)
		}
		defer resp.Close()
		var r agent.Response
		if err := resp.Decode(&r); err != nil {
			fmt.Println("undecodable response:", err)
			os.Exit(4)
		}
		return &r
	}

	fmt.Println("healthy", get(calls.GetHealth()).GetGetHealth().GetHealthy())
	fmt.Println("agent", get(calls.GetAgent()).GetGetAgent().GetAgentInfo().GetID().GetValue())
	st := get(calls.GetState()).GetGetState()
	for _, t := range st.GetGetTasks().GetLaunchedTasks() {
		fmt.Println("launched", t.TaskID.Value, t.GetState().String())
	}
	fmt.Println("executors", len(st.GetGetExecutors().GetExecutors()))
	fmt.Println("frameworks", len(st.GetGetFrameworks().GetFrameworks()))
	for _, c := range get(calls.GetContainers()).GetGetContainers().GetContainers() {
		fmt.Println("container", c.ContainerID.Value, "executor", c.ExecutorID.Value, "processes",
			c.GetResourceStatistics().GetProcesses())
	}
	if *sandbox == "" {
		return
	}
	for _, f := range get(calls.ListFiles(*sandbox)).GetListFiles().GetFileInfos() {
		fmt.Println("file", f.Path)
	}
	rf := get(calls.ReadFile(*sandbox+"/stdout", 0)).GetReadFile()
	fmt.Println("read", rf.GetSize(), "bytes")
}
