// A Mesos v1 HTTP scheduler written against Debian's mesos-go (httpsched, calls): it subscribes, launches one
// command task on the first offer that fits, acknowledges every update and exits 0 once the task is
// TASK_FINISHED. With --executor the task goes to that custom executor instead: each message from the executor
// is answered with "finish <task>", or with --shutdown-executor by a SHUTDOWN of that executor (the task then ends
// TASK_KILLED, which counts as done). The mesoscaf tests run it against a real master to show that a framework written for Mesos
// runs unchanged. Each step prints one line the test reads.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

func scalar(name string, value float64, alloc *mesos.Resource_AllocationInfo) mesos.Resource {
	return mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: value},
		AllocationInfo: alloc}
}

func fits(o *mesos.Offer, cpus, mem float64) bool {
	have := map[string]float64{}
	for _, r := range o.Resources {
		if r.GetType() == mesos.SCALAR {
			have[r.Name] += r.GetScalar().GetValue()
		}
	}
	return have["cpus"] >= cpus && have["mem"] >= mem
}

func main() {
	endpoint := flag.String("url", "", "the master's scheduler API: http://HOST:PORT/api/v1/scheduler")
	codecName := flag.String("codec", "json", "json or protobuf")
	command := flag.String("command", "echo hello from mesos-go", "the task's shell command")
	role := flag.String("role", "*", "the framework's role")
	taskID := flag.String("task-id", "go-task-1", "the task's ID")
	executorCommand := flag.String("executor", "", "run the task on a custom executor started by this shell command")
	shutdownExecutor := flag.Bool("shutdown-executor", false, "answer the executor's message with SHUTDOWN")
	checkpoint := flag.Bool("checkpoint", false, "a checkpointing framework (its tasks survive an agent restart)")
	finishAfter := flag.Int("finish-after", 1, "answer only the executor's N-th message (the earlier ones are logged)")
	timeout := flag.Duration("timeout", 90*time.Second, "give up after this long")
	flag.Parse()

	mediaType := codecs.MediaTypeJSON
	if *codecName == "protobuf" {
		mediaType = codecs.MediaTypeProtobuf
	}
	cli := httpcli.New(
		httpcli.Endpoint(*endpoint),
		httpcli.Codec(codecs.ByMediaType[mediaType]),
		httpcli.Do(httpcli.With(httpcli.Timeout(20*time.Second))),
	)
	caller := httpsched.NewCaller(cli)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	info := &mesos.FrameworkInfo{
		User:         "root",
		Checkpoint:   checkpoint,
		Name:         "mesos-go scheduler (" + *codecName + ")",
		Roles:        []string{*role},
		Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}},
	}
	resp, err := caller.Call(ctx, calls.Subscribe(info))
	if err != nil {
		fmt.Println("subscribe failed:", err)
		os.Exit(3)
	}
	defer resp.Close()

	frameworkID := ""
	launched := false
	messages := 0
	call := func(c *scheduler.Call) {
		if err := calls.CallNoData(ctx, caller, c.With(calls.Framework(frameworkID))); err != nil {
			fmt.Println("call failed:", c.GetType().String(), err)
			os.Exit(4)
		}
	}
	for {
		var e scheduler.Event
		if err := resp.Decode(&e); err != nil {
			fmt.Println("stream ended:", err)
			os.Exit(5)
		}
		switch e.GetType() {
		case scheduler.Event_SUBSCRIBED:
			frameworkID = e.GetSubscribed().GetFrameworkID().GetValue()
			fmt.Printf("subscribed %s heartbeat %.0f\n", frameworkID, e.GetSubscribed().GetHeartbeatIntervalSeconds())
		case scheduler.Event_OFFERS:
			for i := range e.GetOffers().GetOffers() {
				o := &e.GetOffers().GetOffers()[i]
				if launched || !fits(o, 0.1, 32) {
					call(calls.Decline(o.ID).With(calls.RefuseSeconds(time.Hour)))
					continue
				}
				launched = true
				task := mesos.TaskInfo{
					Name:      "mesos-go task",
					TaskID:    mesos.TaskID{Value: *taskID},
					AgentID:   o.AgentID,
					Resources: []mesos.Resource{scalar("cpus", 0.1, o.AllocationInfo), scalar("mem", 32, o.AllocationInfo)},
				}
				if *executorCommand == "" {
					task.Command = &mesos.CommandInfo{Value: command}
				} else {
					task.Executor = &mesos.ExecutorInfo{
						ExecutorID: mesos.ExecutorID{Value: "go-executor-" + *taskID},
						Type:       mesos.ExecutorInfo_CUSTOM,
						Name:       proto.String("mesos-go executor"),
						Command:    &mesos.CommandInfo{Value: executorCommand},
						Resources:  []mesos.Resource{scalar("cpus", 0.1, o.AllocationInfo), scalar("mem", 32, o.AllocationInfo)},
					}
					task.Data = []byte("payload of " + *taskID)
				}
				call(calls.Accept(calls.OfferOperations{calls.OpLaunch(task)}.WithOffers(o.ID)))
				fmt.Printf("launched %s on %s\n", *taskID, o.AgentID.Value)
			}
		case scheduler.Event_UPDATE:
			s := e.GetUpdate().GetStatus()
			fmt.Printf("update %s %s %s\n", s.TaskID.Value, s.GetState().String(), s.GetMessage())
			if len(s.UUID) > 0 {
				call(calls.Acknowledge(s.GetAgentID().GetValue(), s.TaskID.Value, s.UUID))
			}
			switch s.GetState() {
			case mesos.TASK_KILLED:
				if !*shutdownExecutor {
					os.Exit(1)
				}
				call(&scheduler.Call{Type: scheduler.Call_TEARDOWN})
				fmt.Println("done")
				os.Exit(0)
			case mesos.TASK_FINISHED:
				call(&scheduler.Call{Type: scheduler.Call_TEARDOWN})
				fmt.Println("done")
				os.Exit(0)
			case mesos.TASK_FAILED, mesos.TASK_ERROR, mesos.TASK_LOST, mesos.TASK_DROPPED:
				os.Exit(1)
			}
		case scheduler.Event_MESSAGE:
			m := e.GetMessage()
			fmt.Printf("message from %s on %s: %s\n", m.ExecutorID.Value, m.AgentID.Value, string(m.Data))
			if messages++; messages < *finishAfter {
				continue
			}
			if *shutdownExecutor {
				call(calls.Shutdown(m.ExecutorID.Value, m.AgentID.Value))
				fmt.Println("shutdown sent")
			} else {
				call(calls.Message(m.AgentID.Value, m.ExecutorID.Value, []byte("finish "+*taskID)))
			}
		case scheduler.Event_HEARTBEAT:
			fmt.Println("heartbeat")
		case scheduler.Event_ERROR:
			fmt.Println("error event:", e.GetError().GetMessage())
			os.Exit(2)
		}
	}
}
