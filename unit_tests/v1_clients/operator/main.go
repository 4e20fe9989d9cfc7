// A Mesos v1 operator client written against Debian's mesos-go (httpcli, httpmaster, master/calls): it asks a
// master for GET_HEALTH, GET_VERSION and GET_STATE and prints what it learnt, one fact per line, for the mesoscaf
// tests to read. With --subscribe it then follows the master's SUBSCRIBE stream and prints each event. With
// --operation it reserves, unreserves, creates or destroys resources of an agent instead (mesos-go's calls) and
// prints whether the master accepted it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
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
	operation := flag.String("operation", "", "reserve, unreserve, create or destroy (then nothing else is done)")
	agent := flag.String("agent", "", "with --operation: the agent's ID")
	role := flag.String("role", "", "with --operation: the role of the reservation")
	principal := flag.String("principal", "ops", "with --operation: the operator's principal in the reservation")
	cpus := flag.Float64("cpus", 0, "with --operation: cpus to reserve or unreserve")
	disk := flag.Float64("disk", 0, "with --operation: disk to reserve or unreserve, or the volume's size")
	volume := flag.String("volume", "", "with create or destroy: the volume as ID:CONTAINER_PATH")
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

	if *operation != "" {
		c := operationCall(*operation, *agent, *role, *principal, *cpus, *disk, *volume)
		resp, err := sender.Send(ctx, calls.NonStreaming(c))
		if err != nil {
			fmt.Println("operation", c.GetType().String(), "refused:", err)
			os.Exit(6)
		}
		if resp != nil { // 202 without a body: mesos-go may hand back no response
			resp.Close()
		}
		fmt.Println("operation", c.GetType().String(), "accepted")
		return
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

// operationCall builds the call with dynamically reserved resources in the format mesos-go 0.0.6 knows (role and
// reservation with the principal).
func operationCall(op, agent, role, principal string, cpus, disk float64, volume string) *master.Call {
	reserved := func(name string, value float64) mesos.Resource {
		return mesos.Resource{
			Name:        name,
			Type:        mesos.SCALAR.Enum(),
			Scalar:      &mesos.Value_Scalar{Value: value},
			Role:        &role,
			Reservation: &mesos.Resource_ReservationInfo{Principal: &principal},
		}
	}
	var rs []mesos.Resource
	if cpus > 0 {
		rs = append(rs, reserved("cpus", cpus))
	}
	if disk > 0 {
		rs = append(rs, reserved("disk", disk))
	}
	id := mesos.AgentID{Value: agent}
	if op == "create" || op == "destroy" {
		parts := strings.SplitN(volume, ":", 2)
		if len(parts) != 2 {
			fmt.Println("--volume must be ID:CONTAINER_PATH")
			os.Exit(2)
		}
		v := reserved("disk", disk)
		mode := mesos.RW
		v.Disk = &mesos.Resource_DiskInfo{
			Persistence: &mesos.Resource_DiskInfo_Persistence{ID: parts[0], Principal: &principal},
			Volume:      &mesos.Volume{ContainerPath: parts[1], Mode: &mode},
		}
		if op == "create" {
			return calls.CreateVolumes(id, v)
		}
		return calls.DestroyVolumes(id, v)
	}
	if op == "reserve" {
		return calls.ReserveResources(id, rs...)
	}
	return calls.UnreserveResources(id, rs...)
}
