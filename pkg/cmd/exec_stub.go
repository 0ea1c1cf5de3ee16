package cmd

import "k8s.io/cli-runtime/pkg/genericiooptions"

func Execute(streams genericiooptions.IOStreams, args []string) int { return 0 }
