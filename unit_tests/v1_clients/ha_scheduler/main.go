// A Mesos v1 HTTP scheduler that finds its master the way Mesos frameworks do: mesos-go's ZooKeeper detector
// reads the leader's `json.info_` record. It runs one long task, and when the leader goes away it follows the
// detector to the next leader, subscribes again with its framework ID, reconciles the task (still running), kills
// it and tears down. Each step prints one line the mesoscaf tests read; exit 0 means the whole story happened.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/mesos/mesos-go/api/v0/detector"
	_ "github.com/mesos/mesos-go/api/v0/detector/zoo"
	mesosv0 "github.com/mesos/mesos-go/api/v0/mesosproto"
	"github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

const taskID = "ha-task"

func main() {
	zk := flag.String("zk", "", "zk://HOST:PORT/PATH of the masters")
	timeout := flag.Duration("timeout", 240*time.Second, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	md, err := detector.New(*zk)
	if err != nil {
		fmt.Println("detector failed:", err)
		os.Exit(3)
	}
	leaders := make(chan string, 16)
	err = md.Detect(detector.OnMasterChanged(func(mi *mesosv0.MasterInfo) {
		if mi == nil || mi.GetAddress() == nil {
			return
		}
		leaders <- fmt.Sprintf("http://%s:%d/api/v1/scheduler", mi.GetAddress().GetIp(), mi.GetAddress().GetPort())
	}))
	if err != nil {
		fmt.Println("detect failed:", err)
		os.Exit(3)
	}

	frameworkID := ""
	agentID := ""
	previous := ""
	for {
		var url string
		select {
		case url = <-leaders:
		case <-ctx.Done():
			fmt.Println("timed out")
			os.Exit(6)
		}
		if url == previous {
			continue
		}
		previous = url
		fmt.Println("leader", url)
		for {
			done, retry := follow(ctx, url, &frameworkID, &agentID)
			if done {
				fmt.Println("done")
				os.Exit(0)
			}
			if !retry || len(leaders) > 0 || ctx.Err() != nil {
				break
			}
			// The leader could not take the subscription yet (503 while it recovers): try it again shortly.
			time.Sleep(time.Second)
		}
	}
}

// follow subscribes at url and handles events until the stream ends (false) or the story is over (true); retry
// says the subscription itself failed and the same leader may take it later.
func follow(ctx context.Context, url string, frameworkID, agentID *string) (done bool, retry bool) {
	cli := httpcli.New(httpcli.Endpoint(url), httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeJSON]),
		httpcli.Do(httpcli.With(httpcli.Timeout(20*time.Second))))
	caller := httpsched.NewCaller(cli)
	info := &mesos.FrameworkInfo{
		User: "root", Name: "mesos-go HA scheduler", Roles: []string{"*"}, FailoverTimeout: proto64(600),
		Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}},
	}
	resubscribing := *frameworkID != ""
	if resubscribing {
		info.ID = &mesos.FrameworkID{Value: *frameworkID}
	}
	resp, err := caller.Call(ctx, calls.Subscribe(info))
	if err != nil {
		fmt.Println("subscribe failed:", err)
		return false, true
	}
	defer resp.Close()
	call := func(c *scheduler.Call) {
		if err := calls.CallNoData(ctx, caller, c.With(calls.Framework(*frameworkID))); err != nil {
			fmt.Println("call failed:", c.GetType().String(), err)
		}
	}
	launched := resubscribing
	var reconciled int32
	for {
		var e scheduler.Event
		if err := resp.Decode(&e); err != nil {
			fmt.Println("disconnected:", err)
			return false, false
		}
		switch e.GetType() {
		case scheduler.Event_SUBSCRIBED:
			id := e.GetSubscribed().GetFrameworkID().GetValue()
			if resubscribing && id != *frameworkID {
				fmt.Println("resubscribed as another framework:", id)
				os.Exit(7)
			}
			*frameworkID = id
			if resubscribing {
				fmt.Println("resubscribed", id)
				// The master answers for a task once its agent has re-registered with it: ask again until then,
				// as Mesos' reconciliation guide says.
				go func() {
					for atomic.LoadInt32(&reconciled) == 0 && ctx.Err() == nil {
						call(calls.Reconcile(calls.ReconcileTasks(map[string]string{taskID: *agentID})))
						time.Sleep(2 * time.Second)
					}
				}()
			} else {
				fmt.Println("subscribed", id)
			}
		case scheduler.Event_OFFERS:
			for i := range e.GetOffers().GetOffers() {
				o := &e.GetOffers().GetOffers()[i]
				if launched {
					call(calls.Decline(o.ID).With(calls.RefuseSeconds(time.Hour)))
					continue
				}
				launched = true
				*agentID = o.AgentID.Value
				cmd := "sleep 600"
				task := mesos.TaskInfo{
					Name: "ha task", TaskID: mesos.TaskID{Value: taskID}, AgentID: o.AgentID,
					Resources: []mesos.Resource{
						{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 0.1}, AllocationInfo: o.AllocationInfo},
						{Name: "mem", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: 32}, AllocationInfo: o.AllocationInfo},
					},
					Command: &mesos.CommandInfo{Value: &cmd},
				}
				call(calls.Accept(calls.OfferOperations{calls.OpLaunch(task)}.WithOffers(o.ID)))
			}
		case scheduler.Event_UPDATE:
			s := e.GetUpdate().GetStatus()
			fmt.Printf("update %s %s\n", s.TaskID.Value, s.GetState().String())
			if len(s.UUID) > 0 {
				call(calls.Acknowledge(s.GetAgentID().GetValue(), s.TaskID.Value, s.UUID))
			}
			switch {
			case s.GetState() == mesos.TASK_RUNNING && !resubscribing:
				fmt.Println("running")
			case s.GetState() == mesos.TASK_RUNNING && resubscribing:
				if atomic.CompareAndSwapInt32(&reconciled, 0, 1) {
					fmt.Println("reconciled running")
					call(calls.Kill(taskID, *agentID))
				}
			case s.GetState() == mesos.TASK_KILLED && resubscribing:
				call(&scheduler.Call{Type: scheduler.Call_TEARDOWN})
				return true, false
			case s.GetState() != mesos.TASK_STARTING && s.GetState() != mesos.TASK_STAGING && s.GetState() != mesos.TASK_KILLING:
				fmt.Println("unexpected state")
				os.Exit(1)
			}
		case scheduler.Event_ERROR:
			fmt.Println("error event:", e.GetError().GetMessage())
			os.Exit(2)
		}
	}
}

func proto64(v float64) *float64 { return &v }
