#include "textflag.h"

// func indexPairsSSE2(b []byte, pairs *[6][32]byte) int
TEXT ·indexPairsSSE2(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ pairs+24(FP), DI
	MOVOU 0(DI), X8
	MOVOU 32(DI), X9
	MOVOU 64(DI), X10
	MOVOU 96(DI), X11
	MOVOU 128(DI), X12
	MOVOU 160(DI), X13
	MOVQ SI, DX
	// A block at i reads b[i:i+17]: the last starts below len-16.
	LEAQ -16(SI)(BX*1), CX

sseloop:
	CMPQ SI, CX
	JGE  ssenone
	MOVOU (SI), X0
	MOVOU 1(SI), X1
	MOVO  X0, X2
	PCMPEQB X8, X2
	MOVO  X1, X3
	PCMPEQB X9, X3
	PAND  X3, X2
	MOVO  X0, X4
	PCMPEQB X10, X4
	MOVO  X1, X5
	PCMPEQB X11, X5
	PAND  X5, X4
	POR   X4, X2
	PCMPEQB X12, X0
	PCMPEQB X13, X1
	PAND  X1, X0
	POR   X0, X2
	PMOVMSKB X2, AX
	TESTL AX, AX
	JNZ   ssefound
	ADDQ  $16, SI
	JMP   sseloop

ssefound:
	BSFL AX, AX
	SUBQ DX, SI
	ADDQ SI, AX
	MOVQ AX, ret+32(FP)
	RET

ssenone:
	MOVQ $-1, ret+32(FP)
	RET

// func indexPairsAVX2(b []byte, pairs *[6][32]byte) int
TEXT ·indexPairsAVX2(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ pairs+24(FP), DI
	VMOVDQU 0(DI), Y8
	VMOVDQU 32(DI), Y9
	VMOVDQU 64(DI), Y10
	VMOVDQU 96(DI), Y11
	VMOVDQU 128(DI), Y12
	VMOVDQU 160(DI), Y13
	MOVQ SI, DX
	// A block at i reads b[i:i+33]: the last starts below len-32.
	LEAQ -32(SI)(BX*1), CX

avxloop:
	CMPQ SI, CX
	JGE  avxnone
	VMOVDQU (SI), Y0
	VMOVDQU 1(SI), Y1
	VPCMPEQB Y8, Y0, Y2
	VPCMPEQB Y9, Y1, Y3
	VPAND Y3, Y2, Y2
	VPCMPEQB Y10, Y0, Y4
	VPCMPEQB Y11, Y1, Y5
	VPAND Y5, Y4, Y4
	VPOR Y4, Y2, Y2
	VPCMPEQB Y12, Y0, Y0
	VPCMPEQB Y13, Y1, Y1
	VPAND Y1, Y0, Y0
	VPOR Y0, Y2, Y2
	VPMOVMSKB Y2, AX
	TESTL AX, AX
	JNZ   avxfound
	ADDQ  $32, SI
	JMP   avxloop

avxfound:
	VZEROUPPER
	BSFL AX, AX
	SUBQ DX, SI
	ADDQ SI, AX
	MOVQ AX, ret+32(FP)
	RET

avxnone:
	VZEROUPPER
	MOVQ $-1, ret+32(FP)
	RET
