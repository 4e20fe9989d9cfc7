// A custom Mesos v1 executor written against Debian's mesos-go (httpexec, executor/calls, executor/config): it
// reads the MESOS_* environment the agent gives it, subscribes to the agent's executor API with its token, reports
// each task TASK_RUNNING, sends its scheduler a message, and finishes a task when the scheduler's message says
// "finish <task>". On SHUTDOWN it reports its unfinished tasks TASK_KILLED and exits (as it does when its stream
// ends). Each step is one line on stdout (the
// sandbox's stdout file), which the mesoscaf tests read.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
	"github.com/mesos/mesos-go/api/v1/lib/executor/calls"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpexec"
)

func uuid() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return b
}

func main() {
	codecName := flag.String("codec", "json", "json or protobuf")
	flag.Parse()
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Println("bad environment:", err)
		os.Exit(2)
	}
	fmt.Printf("environment agent=%s checkpoint=%v grace=%v sandbox=%s\n", cfg.AgentEndpoint, cfg.Checkpoint,
		cfg.ExecutorShutdownGracePeriod, cfg.Sandbox)
	mediaType := codecs.MediaTypeJSON
	if *codecName == "protobuf" {
		mediaType = codecs.MediaTypeProtobuf
	}
	// What a Mesos executor does under executor authentication: its token as a Bearer credential.
	token := os.Getenv("MESOS_EXECUTOR_AUTHENTICATION_TOKEN")
	cli := httpcli.New(
		httpcli.Endpoint("http://"+cfg.AgentEndpoint+"/api/v1/executor"),
		httpcli.Codec(codecs.ByMediaType[mediaType]),
		httpcli.RequestOptions(httpcli.Header("Authorization", "Bearer "+token)),
		httpcli.Do(httpcli.With(httpcli.Timeout(20*time.Second))),
	)
	sender := calls.SenderWith(httpexec.NewSender(cli.Send), calls.Framework(cfg.FrameworkID),
		calls.Executor(cfg.ExecutorID))
	ctx := context.Background()
	send := func(c *executor.Call) {
		if err := calls.SendNoData(ctx, sender, calls.NonStreaming(c)); err != nil {
			fmt.Println("call failed:", c.GetType().String(), err)
			os.Exit(4)
		}
	}
	// What the agent has not acknowledged yet: sent again with the next SUBSCRIBE after a broken connection.
	unackedUpdates := map[string]executor.Call_Update{}
	unackedTasks := map[string]mesos.TaskInfo{}
	update := func(task mesos.TaskID, state mesos.TaskState, message string) {
		status := mesos.TaskStatus{
			TaskID:     task,
			State:      state.Enum(),
			Source:     mesos.SOURCE_EXECUTOR.Enum(),
			Message:    &message,
			ExecutorID: &mesos.ExecutorID{Value: cfg.ExecutorID},
			UUID:       uuid(),
		}
		unackedUpdates[string(status.UUID)] = executor.Call_Update{Status: status}
		send(calls.Update(status))
	}
	subscribe := func() mesos.Response {
		var ts []mesos.TaskInfo
		for _, t := range unackedTasks {
			ts = append(ts, t)
		}
		var us []executor.Call_Update
		for _, u := range unackedUpdates {
			us = append(us, u)
		}
		resp, err := sender.Send(ctx, calls.NonStreaming(calls.Subscribe(ts, us)))
		if err != nil {
			return nil
		}
		return resp
	}

	resp := subscribe()
	if resp == nil {
		fmt.Println("subscribe failed")
		os.Exit(3)
	}
	tasks := map[string]mesos.TaskID{}
	answered := make(chan struct{})   // the scheduler's first message
	var answeredOnce sync.Once
	for {
		var e executor.Event
		if err := resp.Decode(&e); err != nil {
			resp.Close()
			fmt.Println("stream ended:", err)
			if !cfg.Checkpoint {
				os.Exit(5)
			}
			// A checkpointing framework's executor outlives its agent: subscribe again until the agent is back.
			deadline := time.Now().Add(cfg.RecoveryTimeout)
			backoff := 100 * time.Millisecond
			for resp = nil; resp == nil && time.Now().Before(deadline); {
				time.Sleep(backoff)
				if backoff *= 2; backoff > cfg.SubscriptionBackoffMax {
					backoff = cfg.SubscriptionBackoffMax
				}
				resp = subscribe()
			}
			if resp == nil {
				fmt.Println("the agent did not come back")
				os.Exit(5)
			}
			fmt.Println("resubscribed")
			// Messages are best effort (an agent that is not registered with its master yet drops them): said again
			// every second until the scheduler answers.
			var greetings []string
			for _, id := range tasks {
				greetings = append(greetings, "hello again from "+cfg.ExecutorID+" running "+id.Value)
			}
			go func(stop <-chan struct{}) {
				for {
					for _, g := range greetings {
						send(calls.Message([]byte(g)))
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
				}
			}(answered)
			continue
		}
		switch e.GetType() {
		case executor.Event_SUBSCRIBED:
			s := e.GetSubscribed()
			fmt.Printf("subscribed executor=%s framework=%s agent=%s\n", s.ExecutorInfo.ExecutorID.Value,
				s.FrameworkInfo.GetID().GetValue(), s.AgentInfo.GetID().GetValue())
		case executor.Event_LAUNCH:
			t := e.GetLaunch().Task
			tasks[t.TaskID.Value] = t.TaskID
			unackedTasks[t.TaskID.Value] = t
			fmt.Printf("launch %s data=%s\n", t.TaskID.Value, string(t.Data))
			update(t.TaskID, mesos.TASK_RUNNING, "running in a mesos-go executor")
			send(calls.Message([]byte("hello from " + cfg.ExecutorID + " running " + t.TaskID.Value)))
		case executor.Event_ACKNOWLEDGED:
			a := e.GetAcknowledged()
			delete(unackedUpdates, string(a.UUID))
			delete(unackedTasks, a.TaskID.Value)
			fmt.Printf("acknowledged %s\n", a.TaskID.Value)
		case executor.Event_MESSAGE:
			answeredOnce.Do(func() { close(answered) })
			text := string(e.GetMessage().Data)
			fmt.Printf("message %s\n", text)
			if strings.HasPrefix(text, "finish ") {
				if id, ok := tasks[strings.TrimPrefix(text, "finish ")]; ok {
					update(id, mesos.TASK_FINISHED, "finished on the scheduler's word")
					delete(tasks, id.Value)
				}
			}
		case executor.Event_KILL:
			id := e.GetKill().TaskID
			fmt.Printf("kill %s\n", id.Value)
			update(id, mesos.TASK_KILLED, "killed by the executor")
			delete(tasks, id.Value)
		case executor.Event_SHUTDOWN:
			fmt.Println("shutdown")
			for _, id := range tasks {
				update(id, mesos.TASK_KILLED, "killed at the executor's shutdown")
			}
			os.Exit(0)
		case executor.Event_ERROR:
			fmt.Println("error event:", e.GetError().GetMessage())
			os.Exit(6)
		}
	}
}
