// Simulation model of hdl.ecp5_blocks.RAM: the ECP5 DP16KD in the one mode the RTL uses
// (Lattice TN1264, sysMEM): 1024 x 18, port A writes (both byte enables, AD*4..13 the word
// address), port B reads through its address and output registers (REGMODE_B OUTREG: the
// word two clock edges after its address), clock enables on, no reset, chip selects 0.
// Contents and registers start at 0 (the block after configuration, INITVAL all zero).
// Any other parameter setting stops the simulation (it is not modelled).
`default_nettype none
// The block's other inputs and parameters are fixed by the RTL and unused by this model.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module SPINTWIN_DP16KD(DIA0, DIA1, DIA2, DIA3, DIA4, DIA5, DIA6, DIA7, DIA8, DIA9, DIA10, DIA11, DIA12, DIA13, DIA14, DIA15, DIA16, DIA17, ADA0, ADA1, ADA2, ADA3, ADA4, ADA5, ADA6, ADA7, ADA8, ADA9, ADA10, ADA11, ADA12, ADA13, CLKA, CEA, OCEA, WEA, RSTA, CSA0, CSA1, CSA2, DIB0, DIB1, DIB2, DIB3, DIB4, DIB5, DIB6, DIB7, DIB8, DIB9, DIB10, DIB11, DIB12, DIB13, DIB14, DIB15, DIB16, DIB17, ADB0, ADB1, ADB2, ADB3, ADB4, ADB5, ADB6, ADB7, ADB8, ADB9, ADB10, ADB11, ADB12, ADB13, CLKB, CEB, OCEB, WEB, RSTB, CSB0, CSB1, CSB2, DOB0, DOB1, DOB2, DOB3, DOB4, DOB5, DOB6, DOB7, DOB8, DOB9, DOB10, DOB11, DOB12, DOB13, DOB14, DOB15, DOB16, DOB17);
    parameter DATA_WIDTH_A = 0;
    parameter DATA_WIDTH_B = 0;
    parameter REGMODE_A = "NONE";
    parameter REGMODE_B = "NONE";
    parameter WRITEMODE_A = "NONE";
    parameter WRITEMODE_B = "NONE";
    parameter RESETMODE = "NONE";
    parameter ASYNC_RESET_RELEASE = "NONE";
    parameter CSDECODE_A = "NONE";
    parameter CSDECODE_B = "NONE";
    parameter GSR = "NONE";
    parameter CLKAMUX = "NONE";
    parameter CLKBMUX = "NONE";
    input wire DIA0;
    input wire DIA1;
    input wire DIA2;
    input wire DIA3;
    input wire DIA4;
    input wire DIA5;
    input wire DIA6;
    input wire DIA7;
    input wire DIA8;
    input wire DIA9;
    input wire DIA10;
    input wire DIA11;
    input wire DIA12;
    input wire DIA13;
    input wire DIA14;
    input wire DIA15;
    input wire DIA16;
    input wire DIA17;
    input wire ADA0;
    input wire ADA1;
    input wire ADA2;
    input wire ADA3;
    input wire ADA4;
    input wire ADA5;
    input wire ADA6;
    input wire ADA7;
    input wire ADA8;
    input wire ADA9;
    input wire ADA10;
    input wire ADA11;
    input wire ADA12;
    input wire ADA13;
    input wire CLKA;
    input wire CEA;
    input wire OCEA;
    input wire WEA;
    input wire RSTA;
    input wire CSA0;
    input wire CSA1;
    input wire CSA2;
    input wire DIB0;
    input wire DIB1;
    input wire DIB2;
    input wire DIB3;
    input wire DIB4;
    input wire DIB5;
    input wire DIB6;
    input wire DIB7;
    input wire DIB8;
    input wire DIB9;
    input wire DIB10;
    input wire DIB11;
    input wire DIB12;
    input wire DIB13;
    input wire DIB14;
    input wire DIB15;
    input wire DIB16;
    input wire DIB17;
    input wire ADB0;
    input wire ADB1;
    input wire ADB2;
    input wire ADB3;
    input wire ADB4;
    input wire ADB5;
    input wire ADB6;
    input wire ADB7;
    input wire ADB8;
    input wire ADB9;
    input wire ADB10;
    input wire ADB11;
    input wire ADB12;
    input wire ADB13;
    input wire CLKB;
    input wire CEB;
    input wire OCEB;
    input wire WEB;
    input wire RSTB;
    input wire CSB0;
    input wire CSB1;
    input wire CSB2;
    output wire DOB0;
    output wire DOB1;
    output wire DOB2;
    output wire DOB3;
    output wire DOB4;
    output wire DOB5;
    output wire DOB6;
    output wire DOB7;
    output wire DOB8;
    output wire DOB9;
    output wire DOB10;
    output wire DOB11;
    output wire DOB12;
    output wire DOB13;
    output wire DOB14;
    output wire DOB15;
    output wire DOB16;
    output wire DOB17;
    reg [17:0] mem [0:1023];
    reg [17:0] rd = 18'd0;
    reg [17:0] q = 18'd0;
    wire [9:0] wa = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4};
    wire [9:0] ra = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4};
    wire [17:0] di = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    integer i;
    initial begin
        for (i = 0; i < 1024; i = i + 1) mem[i] = 18'd0;
        if (DATA_WIDTH_A != 18 || DATA_WIDTH_B != 18 || REGMODE_B != "OUTREG" || REGMODE_A != "NOREG") begin
            $display("SPINTWIN_DP16KD %m: unmodelled mode");
            $finish;
        end
    end
    always @(posedge CLKA)
        if (CEA && WEA && ADA0 && ADA1) mem[wa] <= di;
    always @(posedge CLKB) begin
        if (CEB) rd <= mem[ra];
        if (OCEB) q <= rd;
    end
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = q;
endmodule
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
`default_nettype wire
